"""Files in and out: user CSVs read in bounded time (csvio), catalogs, triplets (read, checked, generated), feedback
marks as triplets.

May import: common, text.
"""
