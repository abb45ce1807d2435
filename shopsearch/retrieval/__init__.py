"""Search over a catalog: embeddings and their cache, the ONNX query encoder, the vector index, the search engine
(semantic | lexical | hybrid, intents, "nothing relevant"), similarity matrices, and retrieval metrics.

May import: common, text, data.
"""
