"""Running the app for many visitors: the model store (shared models, per-session runs), the janitor (expiry and
the disk budget), stored uploads, downloads, the request body limit, and each visitor's share (fairness.py: the door
that counts queue places, requests, uploads' parts and who stored what, per client address).

May import: every layer below (common, text, data, retrieval, training).
"""
