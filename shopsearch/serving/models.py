"""ModelStore: the shipped model, the base model, and each session's fine-tuned runs.

Shared and read-only: the shipped and base models and their engines over the shipped catalog.
Per session: runs, kept as folders under the runs directory (unguessable ids, checked against the owner),
at most a few loaded in memory (least recently used evicted), deleted with their session or after a TTL.

Nothing is loaded in torch until something needs torch. An engine whose catalog vectors and ONNX export are both
cached is built from those files alone (`OnnxEncoder.cached`, `PlainTokenizer`); searching, the similarity views and
Compare then never load a model in torch. Training, triplet checks, and engines over a catalog or model seen for the
first time load the model (and with it torch, transformers and sentence-transformers: ~6 CPU-seconds of imports).
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard, cast

from shopsearch.common.config import get_settings
from shopsearch.common.errors import UserError
from shopsearch.common.threads import in_own_thread
from shopsearch.data.catalog import Catalog
from shopsearch.retrieval.embeddings import EmbeddingCache, Encoder, Progress, TorchEncoder, model_fingerprint
from shopsearch.retrieval.milvus_backend import MilvusEngine, as_milvus_engine, milvus_engine
from shopsearch.retrieval.no_answer import NoAnswerRule
from shopsearch.retrieval.onnx_encoder import OnnxEncoder, export_path
from shopsearch.retrieval.reference import FINGERPRINT as REFERENCE_FINGERPRINT
from shopsearch.retrieval.reference import for_catalog as reference_for
from shopsearch.retrieval.search import SearchEngine, build_engine
from shopsearch.text.tokens import PlainTokenizer

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

CHINESE = "chinese"  # the Chinese-aware model (model_chinese/): the default
SHIPPED = "shipped"  # the seed's model (model/): the user's TripletLoss fine-tune
BASE = "base"
LABELS = {
    CHINESE: "中文模型（扩展词表 + MNRL）· Chinese-aware model (extended vocabulary + MNRL)",
    SHIPPED: "种子模型（原 TripletLoss 微调）· seed model (the original TripletLoss fine-tune)",
    BASE: "基础模型 · base all-MiniLM-L6-v2",
}
WARM_QUERY = "我想买一款K7"  # has filler words, so a search with it loads jieba's dictionary and pinyin's tables
TRAINING_STACK_DELAY_S = 10.0  # after the page is served, before the warm-up imports torch & co.
VISITOR_FILES = "visitor-files.txt"  # in the cache folder: what was cached for visitors, deleted at the next start
_RUN_NAME = re.compile(r"^[A-Za-z0-9_-]{16}(\.partial)?$")  # secrets.token_urlsafe(12), maybe mid-save


@dataclass
class ModelInfo:
    id: str
    label: str
    path: Path
    fingerprint: str
    owner: str | None = None  # the session that trained it; None for shared models
    metrics: dict[str, float] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.time)
    attachments: list[Path] = field(default_factory=list)  # files made for it (its .zip), deleted with it
    visitor: str | None = None  # the address that trained it (the disk budget evicts the largest visitor's first)


def _may_use(info: ModelInfo | None, session: str | None) -> TypeGuard[ModelInfo]:
    """Whether `session` may use this model: a shared one, anyone; a run, its owner only; an unknown one, nobody."""
    return info is not None and (info.owner is None or info.owner == session)


class ModelStore:
    def __init__(
        self,
        shipped_dir: Path,
        base_dir: Path,
        runs_dir: Path,
        cache: EmbeddingCache,
        max_loaded_runs: int = 3,
        ttl_seconds: int = 7200,
        ann_threshold: int = 200_000,
        shipped: SentenceTransformer | None = None,
        base: SentenceTransformer | None = None,
        chinese_dir: Path | None = None,
        chinese: SentenceTransformer | None = None,
        backend: str | None = None,
        milvus_uri: str | None = None,
    ) -> None:
        """`backend` and `milvus_uri`: where engines search ("memory" or "milvus"); None: the settings' (SHOPSEARCH_BACKEND,
        SHOPSEARCH_MILVUS_URI)."""
        settings = get_settings()
        self.backend = backend or settings.backend
        self.milvus_uri = milvus_uri or settings.milvus_uri
        # Milvus: the shipped catalog's collections keep one name (per model) across versions of the catalog, so a
        # restart with a changed catalog upserts and deletes what changed in them; any other catalog (a visitor's
        # upload) has a collection per content (its fingerprint), as engines are shared by identical catalogs.
        self.milvus_catalog_key = settings.milvus_catalog_key
        self._shipped_catalogs: set[str] = set()  # fingerprints of the catalogs pinned engines were asked for
        self.runs_dir = Path(runs_dir)
        self.cache = cache
        self.max_loaded_runs = max_loaded_runs
        self.ttl_seconds = ttl_seconds
        self.ann_threshold = ann_threshold
        self._lock = threading.RLock()
        dirs = {SHIPPED: Path(shipped_dir), BASE: Path(base_dir)} | ({CHINESE: Path(chinese_dir)} if chinese_dir else {})
        given = {SHIPPED: shipped, BASE: base, CHINESE: chinese}
        self._infos: dict[str, ModelInfo] = {i: ModelInfo(i, LABELS[i], d, model_fingerprint(d)) for i, d in dirs.items()}
        # Loaded in torch on first need (model()); None until then.
        self._shared: dict[str, SentenceTransformer | None] = {i: given[i] for i in dirs}
        self._encoders: dict[str, Encoder] = {}  # by fingerprint: the query encoder of each model in use
        self._tokenizers: dict[str, PlainTokenizer] = {}  # by fingerprint
        # What a new visitor searches with: the Chinese-aware model when it is there.
        self.default_id = CHINESE if CHINESE in dirs else SHIPPED
        self._loaded_runs: OrderedDict[str, SentenceTransformer] = OrderedDict()
        self._engines: OrderedDict[tuple[str, str], SearchEngine] = OrderedDict()
        self._pinned_engines: set[tuple[str, str]] = set()
        self._default_searched = False  # the default engine has run its first search (ready_default)
        self._building: dict[tuple[str, str], threading.Lock] = {}  # engines being built, one lock per key
        self._gone: dict[str, str] = {}  # run id -> why it was deleted ("expired" | "budget"), for its session's notice
        # Catalogs every visitor shares (the shipped one): their vectors are the app's. Any other catalog's vectors, and
        # everything cached for a run, are a visitor's: listed in VISITOR_FILES, under the disk budget, gone at restart.
        self.shared_catalogs: set[str] = set()  # documents fingerprints
        self._visitor_files: set[Path] = set()
        self._remove_leftover_runs()

    def _remove_leftover_runs(self) -> None:
        """Runs belong to sessions, and no session outlives the process: delete what a previous process left."""
        if not self.runs_dir.is_dir():
            return
        for path in self.runs_dir.iterdir():
            if path.is_dir() and _RUN_NAME.match(path.name):
                shutil.rmtree(path, ignore_errors=True)
                log.info("removed leftover run folder %s", path.name[:6])

    # --- lookup -------------------------------------------------------------------------------------------
    def info(self, model_id: str, session: str | None) -> ModelInfo:
        """The model's record, if `session` may use it (shared models: anyone; runs: their owner only)."""
        with self._lock:
            info = self._infos.get(model_id)
            if not _may_use(info, session):
                raise UserError("该模型不存在或已过期。", "This model does not exist or has expired.")
            info.last_used = time.time()
            return info

    def usable(self, model_id: str, session: str | None) -> tuple[str, bool]:
        """`model_id` if `session` may still use it, else the default model: (model id, whether it fell back).

        A session's run can expire (TTL, disk budget) while the page stays open; its next search then uses the
        default model with a notice instead of failing.
        """
        with self._lock:
            if _may_use(self._infos.get(model_id), session):
                return model_id, False
        return self.default_id, True

    def gone_reason(self, model_id: str) -> str:
        """Why a run is no longer there: "budget" (deleted to keep the disk under its budget) or "expired"."""
        with self._lock:
            return self._gone.get(model_id, "expired")

    def model(self, model_id: str, session: str | None) -> SentenceTransformer:
        """The model in torch, loaded on first use (for a shared model, once: it is kept)."""
        from shopsearch.training.seed import load_model  # the training stack: imported on first need, not with the page

        info = self.info(model_id, session)
        if info.owner is None:
            with self._lock:  # held while loading: two first uses load a shared model once
                if self._shared[model_id] is None:
                    self._shared[model_id] = load_model(info.path)
                return cast("SentenceTransformer", self._shared[model_id])  # loaded just above if it was None
        with self._lock:
            if model_id in self._loaded_runs:
                self._loaded_runs.move_to_end(model_id)
                return self._loaded_runs[model_id]
        model = load_model(info.path)
        with self._lock:
            self._loaded_runs[model_id] = model
            while len(self._loaded_runs) > self.max_loaded_runs:
                evicted, _ = self._loaded_runs.popitem(last=False)
                self._drop_engines(self._infos[evicted].fingerprint)
                log.info("evicted run %s from memory", evicted[:6])
        return model

    def tokenizer(self, model_id: str, session: str | None) -> PlainTokenizer:
        """The model's tokenizer as `tokens.view` reads it, from its tokenizer.json (torch-free)."""
        info = self.info(model_id, session)
        with self._lock:
            if info.fingerprint not in self._tokenizers:
                self._tokenizers[info.fingerprint] = PlainTokenizer.from_dir(info.path)
            return self._tokenizers[info.fingerprint]

    def encoder(self, model_id: str, session: str | None) -> Encoder:
        """What embeds texts with this model: its cached ONNX export (torch-free), else one made now, else torch."""
        info = self.info(model_id, session)
        encoder = self._cached_encoder(info)
        if encoder is None:
            model = self.model(model_id, session)
            encoder = OnnxEncoder.for_model(model, info.fingerprint, self.cache.directory) or TorchEncoder(model)
        with self._lock:
            return self._encoders.setdefault(info.fingerprint, encoder)

    def _cached_encoder(self, info: ModelInfo) -> Encoder | None:
        """The model's encoder if one is open or its checked export is cached (torch-free); None otherwise."""
        with self._lock:
            if info.fingerprint in self._encoders:
                return self._encoders[info.fingerprint]
        encoder = OnnxEncoder.cached(self.cache.directory, info.fingerprint)
        if encoder is None:
            return None
        with self._lock:
            return self._encoders.setdefault(info.fingerprint, encoder)

    def engine(self, model_id: str, session: str | None, catalog: Catalog, on_progress: Progress | None = None) -> SearchEngine:
        """A search engine for this model over this catalog (embeddings from the disk cache when present).

        Single-flight: concurrent requests for the same (model, catalog) wait for one build instead of each
        embedding the catalog again (ten parallel Compare calls used to build ten engines).
        """
        info = self.info(model_id, session)
        key = (info.fingerprint, catalog.fingerprint)
        with self._lock:
            if key in self._engines:
                self._engines.move_to_end(key)
                return self._engines[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._engines:  # built by the request this one waited for
                    return self._engines[key]
            try:
                # The torch path in a thread of its own: the OpenMP pool it makes goes with it (threads.py).
                engine = self._engine_from_cache(model_id, session, info, catalog) or in_own_thread(
                    lambda: build_engine(
                        self.model(model_id, session),
                        info.fingerprint,
                        catalog,
                        self.cache,
                        self.ann_threshold,
                        on_progress,
                        model_dir=info.path,
                        encoder=self._cached_encoder(info),
                        tokenizer=self.tokenizer(model_id, session),
                    )
                )
                if self.backend == "milvus" and not isinstance(engine, MilvusEngine):  # built in-process on first sight
                    engine = as_milvus_engine(
                        engine, self.milvus_uri, info.fingerprint, catalog_key=self._milvus_key(catalog), on_progress=on_progress
                    )
            except BaseException:
                with self._lock:
                    self._building.pop(key, None)
                raise
            if info.owner is not None or catalog.documents_fingerprint not in self.shared_catalogs:
                self._note_visitor_file(self.cache.path(info.fingerprint, catalog.documents_fingerprint))
                if engine.reference is not None:  # e5's vectors of the names (written once read)
                    self._note_visitor_file(self.cache.path(REFERENCE_FINGERPRINT, engine.reference.key))
            with self._lock:  # published before the build lock goes, so no late request starts a second build
                self._building.pop(key, None)
                self._engines[key] = engine
                self._encoders.setdefault(info.fingerprint, engine.encoder)  # one ONNX session per model
                unpinned = [k for k in self._engines if k not in self._pinned_engines]
                while len(unpinned) > 2 * self.max_loaded_runs + 2:
                    self._engines.pop(unpinned.pop(0))
        return engine

    def _engine_from_cache(self, model_id: str, session: str | None, info: ModelInfo, catalog: Catalog) -> SearchEngine | None:
        """The engine built from cached files alone (vectors and ONNX export), torch-free; None if either is missing."""
        vectors = self.cache.load(info.fingerprint, catalog.documents_fingerprint, len(catalog))
        if vectors is None:
            return None
        encoder = self._cached_encoder(info)
        if encoder is None:
            return None
        if self.backend == "milvus":
            return milvus_engine(
                catalog,
                vectors,
                self.milvus_uri,
                info.fingerprint,
                catalog_key=self._milvus_key(catalog),
                encoder=encoder,
                no_answer=NoAnswerRule.for_model(info.path),
                tokenizer=self.tokenizer(model_id, session),
                reference=reference_for(catalog, self.cache),
            )
        return SearchEngine(
            None,
            catalog,
            vectors,
            ann_threshold=self.ann_threshold,
            encoder=encoder,
            no_answer=NoAnswerRule.for_model(info.path),
            tokenizer=self.tokenizer(model_id, session),
            reference=reference_for(catalog, self.cache),
        )

    def needs_build(self, model_id: str, session: str | None, catalog: Catalog) -> bool:
        """Whether a search with this model over `catalog` (the default model if `session` may not use it, as `usable`
        says) would wait seconds for its engine: it is not built, and its vectors or export are not cached (a first
        start before the warm-up has built it, or a run evicted with its files gone).

        Takes no lock, so it never waits behind a torch load (which holds the lock for seconds): a dict lookup is
        atomic, and a stale answer only changes a message."""
        info = self._infos.get(model_id)
        if not _may_use(info, session):
            info = self._infos[self.default_id]
        if (info.fingerprint, catalog.fingerprint) in self._engines:
            return False
        return not self._files_cached(info, catalog)

    def is_cached(self, model_id: str, catalog: Catalog) -> bool:
        """Whether the model's engine over `catalog` can be built from cached files alone (seconds, no torch)."""
        return self._files_cached(self.info(model_id, None), catalog)

    def _files_cached(self, info: ModelInfo, catalog: Catalog) -> bool:
        vectors = self.cache.path(info.fingerprint, catalog.documents_fingerprint)
        return vectors.is_file() and export_path(self.cache.directory, info.fingerprint).is_file()

    def _milvus_key(self, catalog: Catalog) -> str | None:
        """The catalog key of `catalog`'s Milvus collections: the settings' for the shipped catalog, None (its
        fingerprint) for any other."""
        with self._lock:
            return self.milvus_catalog_key if catalog.fingerprint in self._shipped_catalogs else None

    def pin_engine(self, model_id: str, catalog: Catalog) -> SearchEngine:
        """Build and keep forever the engine of a shared model over the shipped catalog."""
        with self._lock:
            self._shipped_catalogs.add(catalog.fingerprint)
        engine = self.engine(model_id, None, catalog)
        with self._lock:
            self._pinned_engines.add((self._infos[model_id].fingerprint, catalog.fingerprint))
        return engine

    def ready_default(self, catalog: Catalog) -> SearchEngine:
        """The default engine over `catalog` (pinned), after one first search, run only once per store: it loads jieba's
        dictionary and pinyin's tables (~1.5 CPU-s) that the first visitor would otherwise wait for."""
        engine = self.pin_engine(self.default_id, catalog)
        with self._lock:
            first, self._default_searched = not self._default_searched, True
        if first:
            engine.search(WARM_QUERY)
        return engine

    def warm(self, catalog: Catalog, then_training: threading.Event | None = None) -> threading.Thread:
        """Build what the first visitors would wait for, in a background thread, while the page is built and served:
        the default engine (pinned) and its first search, then the other shared models' engines (the first Compare
        uses the seed model's). Then, once `then_training` is set (the app sets it when its page is served) or 60 s
        have passed, import the training stack, so that the first fine-tune does not wait ~6 s for torch.

        A search that comes before its engine is ready waits for this build (engine() is single-flight) instead of
        starting a second one. Returns the started thread."""

        def work() -> None:
            self.ready_default(catalog)  # already done before the page on a warm start (app.build_context)
            for model_id in [i for i in self._shared if i != self.default_id]:
                started = time.perf_counter()
                self.pin_engine(model_id, catalog)
                log.info("warmed the %s model's engine in %.1f s", model_id, time.perf_counter() - started)
            if then_training is not None:
                then_training.wait(60)
                # Not at once: the import holds the GIL for seconds, and a first visitor's search, heatmap or Compare
                # right after the page appears would wait behind it (first search 1.4-1.7 s instead of 0.2-0.3 s).
                time.sleep(TRAINING_STACK_DELAY_S)
                started = time.perf_counter()
                import shopsearch.training.chinese  # noqa: F401 — torch, transformers, sentence-transformers, datasets

                log.info("imported the training stack in %.1f s", time.perf_counter() - started)

        thread = threading.Thread(target=work, name="warm-engines", daemon=True)
        thread.start()
        return thread

    def _drop_engines(self, fingerprint: str) -> None:
        for key in [k for k in self._engines if k[0] == fingerprint]:
            del self._engines[key]
        self._encoders.pop(fingerprint, None)
        self._tokenizers.pop(fingerprint, None)

    # --- what is cached for visitors -----------------------------------------------------------------------
    def _note_visitor_file(self, path: Path) -> None:
        """Remember a cached file made for a visitor (a catalog's vectors, a run's export), here and in the cache's list."""
        with self._lock:
            if path in self._visitor_files:
                return
            self._visitor_files.add(path)
            self.cache.directory.mkdir(parents=True, exist_ok=True)
            with (self.cache.directory / VISITOR_FILES).open("a", encoding="utf-8") as listing:
                listing.write(f"{path.relative_to(self.cache.directory)}\n")

    def visitor_files(self) -> list[Path]:
        """Cached files made for visitors that still exist (vectors of their catalogs; runs' exports go with the runs)."""
        with self._lock:
            return [p for p in self._visitor_files if p.suffix == ".npy" and p.is_file()]

    def forget_visitor_file(self, path: Path) -> None:
        """Delete a visitor's cached vectors (the engine in memory keeps working; a rebuild embeds again)."""
        with self._lock:
            self._visitor_files.discard(path)
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)

    def remove_visitor_files(self) -> int:
        """At start-up: delete what a previous process cached for its visitors (no session outlives it). Returns how many."""
        listing = self.cache.directory / VISITOR_FILES
        if not listing.is_file():
            return 0
        removed = 0
        shared = {i.fingerprint for i in self._infos.values() if i.owner is None}
        for line in listing.read_text(encoding="utf-8").splitlines():
            path = (self.cache.directory / line.strip()).resolve()
            name = path.name
            if not line.strip() or path.parent not in (self.cache.directory.resolve(), (self.cache.directory / "onnx").resolve()):
                continue  # only files of the cache itself
            if name.endswith(".onnx") and name.split(".")[0] in shared:
                continue  # a run that did not train shares the shared model's export
            for doomed in (path, path.with_suffix(".json")):
                if doomed.is_file():
                    doomed.unlink()
                    removed += 1
        listing.unlink()
        return removed

    # --- runs ---------------------------------------------------------------------------------------------
    def new_run_dir(self) -> tuple[str, Path]:
        """An unguessable run id and the folder its model will be saved to (not yet created)."""
        run_id = secrets.token_urlsafe(12)
        return run_id, self.runs_dir / run_id

    def add_run(self, session: str, run_id: str, path: Path, label: str, metrics: dict[str, float], visitor: str | None = None) -> ModelInfo:
        info = ModelInfo(run_id, label, Path(path), model_fingerprint(path), owner=session, metrics=metrics, visitor=visitor)
        with self._lock:
            self._infos[run_id] = info
        self._note_visitor_file(export_path(self.cache.directory, info.fingerprint))  # made when it was saved
        return info

    def shared(self) -> list[ModelInfo]:
        """The models every visitor may use, the default first."""
        with self._lock:
            return sorted((i for i in self._infos.values() if i.owner is None), key=lambda i: i.id != self.default_id)

    def runs(self, session: str | None) -> list[ModelInfo]:
        with self._lock:
            return [i for i in self._infos.values() if i.owner is not None and i.owner == session]

    def drop_session(self, session: str) -> int:
        """Forget a session's runs and delete their folders. Returns how many were dropped."""
        with self._lock:
            doomed = [i for i in self._infos.values() if i.owner == session]
            for info in doomed:
                self._forget(info)
        return len(doomed)

    def expire(self, now: float | None = None) -> int:
        """Delete runs unused for longer than the TTL (sessions that never said goodbye)."""
        now = time.time() if now is None else now
        with self._lock:
            doomed = [i for i in self._infos.values() if i.owner is not None and now - i.last_used > self.ttl_seconds]
            for info in doomed:
                self._forget(info)
                self._gone[info.id] = "expired"
        return len(doomed)

    def run_files(self) -> list[tuple[float, str, list[Path], str]]:
        """Every run's last use, id, files (folder, attachments, ONNX export) and owner (its visitor's address, else its
        session): what the disk budget may evict."""
        with self._lock:
            return [
                (i.last_used, i.id, [i.path, *i.attachments, export_path(self.cache.directory, i.fingerprint)], i.visitor or str(i.owner))
                for i in self._infos.values()
                if i.owner is not None
            ]

    def forget_run(self, run_id: str, reason: str = "budget") -> bool:
        """Delete one run and its files now (the disk budget's eviction). Its session falls back to the default and is
        told `reason`."""
        with self._lock:
            info = self._infos.get(run_id)
            if info is None or info.owner is None:
                return False
            self._forget(info)
            self._gone[run_id] = reason
            return True

    def _forget(self, info: ModelInfo) -> None:
        del self._infos[info.id]
        self._loaded_runs.pop(info.id, None)
        self._drop_engines(info.fingerprint)
        for path in (info.path, *info.attachments):
            shutil.rmtree(path, ignore_errors=True)
        # Its ONNX export (≈ 90 MB, made when the run was first searched) goes too, unless another model has the
        # same weights (a run that did not train) and still uses it.
        if all(other.fingerprint != info.fingerprint for other in self._infos.values()):
            export_path(self.cache.directory, info.fingerprint).unlink(missing_ok=True)
            for vectors in self.cache.directory.glob(f"{info.fingerprint}-*"):  # its catalogs' vectors (7 MB per 5,000 rows)
                vectors.unlink(missing_ok=True)

    @property
    def loaded_runs(self) -> int:
        return len(self._loaded_runs)
