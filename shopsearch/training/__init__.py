"""Fine-tuning: parameters and step estimates (torch-free), the seed and Chinese-aware recipes, vocabulary extension,
training pairs, the training line, and `FinetuneJob` (one run from its place in line to its activation decision),
which the app, the `/finetune` API and `python -m shopsearch.training` all drive.

May import: common, text, data, retrieval (serving's ModelStore only for type checks; the CLI builds one).
"""
