"""Running the app for many visitors: the model store (shared models, per-session runs), the janitor (expiry and
the disk budget), stored uploads, downloads, and the request body limit.

May import: every layer below (common, text, data, retrieval, training).
"""
