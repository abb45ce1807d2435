"""Text processing, no model and no I/O: tokens as the model sees them, BM25 tokens (characters, bigrams, Latin
words, model numbers, pinyin), the parsed query and its intents, dictionary glosses, and the input gate.

May import: common.
"""
