"""Chinese product search with a small English sentence-transformer: search, similarity, fine-tuning."""
