"""Encode catalogs in batches and cache the vectors on disk, keyed by model and catalog fingerprints.

A cache file is trusted only when its shape and checksum match its sidecar; otherwise it is rebuilt.
Large arrays (MEMMAP_ABOVE_BYTES and up: 1M products × 384 floats are 1.5 GB) are encoded straight into the cache
file and served as a read-only memmap, so they are never held twice, nor once in the process's own memory: search
reads only the rows it re-scores.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np
from numpy.lib.format import open_memmap

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (texts done, texts total)
MEMMAP_ABOVE_BYTES = 256 * 2**20  # ~175k products at 384 dimensions; the vector index turns approximate at 200k
_READ_BLOCK = 1 << 24


class Encoder(Protocol):
    """What search needs from a model: texts in, unit-length float32 rows out. See TorchEncoder, OnnxEncoder."""

    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), dim) float32 unit rows, in the order of `texts`."""
        ...


class TorchEncoder:
    """The model's own sentence-transformers `encode` in torch: the reference, and the fallback to ONNX."""

    def __init__(self, model: SentenceTransformer) -> None:
        self.model = model
        # `int | None` in sentence-transformers: None only for a model whose last module states no dimension; the models
        # searched here end in Pooling/Normalize, which state it.
        self.dim = cast(int, model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def as_encoder(model: SentenceTransformer | Encoder) -> Encoder:
    """An Encoder (it has `dim`) as is; a bare SentenceTransformer wrapped in a TorchEncoder."""
    return cast("Encoder", model) if hasattr(model, "dim") else TorchEncoder(cast("SentenceTransformer", model))


def model_fingerprint(model_dir: str | Path) -> str:
    """Hash of a saved model's weights and tokenizer: a changed model never reuses stale vectors."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json", "modules.json"):
        path = Path(model_dir) / name
        if path.is_file():
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def _batches(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def encode(
    model: SentenceTransformer | Encoder,
    texts: Iterable[str],
    total: int,
    out: np.ndarray | None = None,
    batch_size: int = 64,
    on_progress: Progress | None = None,
) -> np.ndarray:
    """Encode `total` texts into unit vectors, one batch at a time, into `out` (e.g. a memmap) or a new array.

    Only one batch of texts is held at a time, so a memmap `out` bounds peak memory for huge catalogs.
    `model` is a SentenceTransformer (encoded in torch) or any Encoder, e.g. an OnnxEncoder.
    """
    encoder = as_encoder(model)
    out = np.empty((total, encoder.dim), dtype=np.float32) if out is None else out
    done = 0
    for batch in _batches(texts, batch_size):
        vectors = encoder.encode(batch, batch_size=batch_size)
        out[done : done + len(batch)] = vectors
        done += len(batch)
        if on_progress:
            on_progress(done, total)
    if done != total:
        raise ValueError(f"expected {total} texts, got {done}")
    return out


def _checksum(array: np.ndarray) -> str:
    """sha256 of the array's bytes in C order; a memmap's are read from its file, not through the mapping."""
    if isinstance(array, np.memmap) and array.filename and array.flags.c_contiguous:
        return _file_checksum(array.filename, array.offset, array.nbytes)
    digest = hashlib.sha256()
    rows = max(1, _READ_BLOCK // max(1, array[:1].nbytes))
    for start in range(0, len(array), rows):
        digest.update(np.ascontiguousarray(array[start : start + rows]).tobytes())
    return digest.hexdigest()


def _file_checksum(path: str | Path, offset: int, size: int) -> str:
    """sha256 of `size` bytes of a file from `offset`, read in blocks (plain reads leave no pages in our RSS)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(offset)
        while size > 0:
            block = fh.read(min(size, _READ_BLOCK))
            if not block:
                break
            digest.update(block)
            size -= len(block)
    return digest.hexdigest()


class EmbeddingCache:
    """`<dir>/<model fp>-<catalog fp>.npy` plus a `.json` sidecar with shape and checksum.

    Arrays of `memmap_above` bytes and more are returned as read-only memmaps of the cache file (and encoded
    straight into it); smaller ones are loaded into memory.
    """

    def __init__(self, directory: str | Path, memmap_above: int = MEMMAP_ABOVE_BYTES) -> None:
        self.directory = Path(directory)
        self.memmap_above = memmap_above

    def path(self, model_fp: str, catalog_fp: str) -> Path:
        return self.directory / f"{model_fp}-{catalog_fp}.npy"

    def load(self, model_fp: str, catalog_fp: str, rows: int) -> np.ndarray | None:
        """The cached vectors, or None when absent, truncated, corrupted or of the wrong size."""
        path = self.path(model_fp, catalog_fp)
        meta_path = path.with_suffix(".json")
        if not (path.is_file() and meta_path.is_file()):
            return None
        try:
            meta = json.loads(meta_path.read_text())
            array = np.load(path, mmap_mode="r", allow_pickle=False)  # the header only; the data is read below
        except (OSError, ValueError, json.JSONDecodeError) as err:
            log.warning("embedding cache %s unreadable (%s); rebuilding", path.name, err)
            return None
        if array.shape != (rows, meta.get("dim")) or _checksum(array) != meta.get("sha256"):
            log.warning("embedding cache %s does not match its checksum; rebuilding", path.name)
            return None
        return array if array.nbytes >= self.memmap_above else np.array(array)

    def store(self, model_fp: str, catalog_fp: str, array: np.ndarray) -> None:
        """Write atomically: a reader sees the old file, the new file, or none — never half of one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(model_fp, catalog_fp)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.save(fh, array, allow_pickle=False)
        tmp_meta = path.with_name(path.stem + f".{os.getpid()}.json.tmp")
        tmp_meta.write_text(json.dumps({"dim": int(array.shape[1]), "sha256": _checksum(array)}))
        os.replace(tmp, path)
        os.replace(tmp_meta, path.with_suffix(".json"))

    def get_or_encode(
        self,
        model: SentenceTransformer | Encoder,
        model_fp: str,
        catalog_fp: str,
        texts: list[str],
        on_progress: Progress | None = None,
    ) -> np.ndarray:
        cached = self.load(model_fp, catalog_fp, len(texts))
        if cached is not None:
            return cached
        dim = as_encoder(model).dim
        if len(texts) * dim * 4 < self.memmap_above:
            array = encode(model, texts, len(texts), on_progress=on_progress)
            self.store(model_fp, catalog_fp, array)
            return array
        # Large: encode into the cache file itself (one batch in memory), then serve it read-only.
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(model_fp, catalog_fp)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        written = encode_to_file(model, texts, len(texts), tmp, on_progress=on_progress)
        checksum = _checksum(written)
        del written
        tmp_meta = path.with_name(path.stem + f".{os.getpid()}.json.tmp")
        tmp_meta.write_text(json.dumps({"dim": dim, "sha256": checksum}))
        os.replace(tmp, path)
        os.replace(tmp_meta, path.with_suffix(".json"))
        return np.load(path, mmap_mode="r", allow_pickle=False)


def encode_to_file(
    model: SentenceTransformer | Encoder, texts: Iterable[str], total: int, path: str | Path, on_progress: Progress | None = None
) -> np.ndarray:
    """Stream a large catalog's vectors into a `.npy` memmap on disk (bounded memory); returns the memmap."""
    out = open_memmap(str(path), mode="w+", dtype=np.float32, shape=(total, as_encoder(model).dim))
    encode(model, texts, total, out=out, on_progress=on_progress)
    out.flush()
    return out
