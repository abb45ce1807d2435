"""Configuration, the bilingual user error, and threads for torch work: used by every other layer, importing none."""
