"""Encode texts with an ONNX export of a model's transformer, run by onnxruntime on one CPU thread.

torch stays the trainer and the reference. The transformer (a BertModel) is exported once per model fingerprint
and cached on disk; mean pooling over the attention mask and L2 normalisation run in numpy, exactly as the
model's Pooling("mean") and Normalize modules do. An export is trusted only after it reproduces torch on a few
probe texts; anything that goes wrong leaves the caller on torch (`OnnxEncoder.for_model` returns None).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

if TYPE_CHECKING:
    import onnxruntime
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Checked against torch before an export is used: Chinese with [UNK]s, latin model numbers, and a batch of
# mixed lengths, so the attention mask over padding is exercised too.
PROBE_TEXTS = ("寻找一款K7", "wireless router 无线路由器 AX3000，保温杯 500ml", "猫")
MIN_PROBE_COSINE = 0.9999
_EXPORT_LOCK = threading.Lock()


class OnnxMismatch(RuntimeError):
    """An export (fresh or cached) does not reproduce the torch model's embeddings."""


def export_path(cache_dir: str | Path, fingerprint: str) -> Path:
    """Where the export of the model with this fingerprint lives. Example: ("/c", "ab12") -> /c/onnx/ab12.onnx"""
    return Path(cache_dir) / "onnx" / f"{fingerprint}.onnx"


def mean_pool_normalize(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors the mask keeps, scaled to unit length (Pooling("mean") + Normalize).

    Args:
        token_embeddings: (batch, sequence, dim) last hidden states.
        attention_mask: (batch, sequence), 1 for real tokens, 0 for padding.

    Returns:
        (batch, dim) float32 unit rows. Example: tokens [[3, 4], [9, 9]], mask [1, 0] -> [[0.6, 0.8]]
    """
    mask = attention_mask[..., None].astype(np.float32)
    mean = (token_embeddings * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)  # clamp as Pooling does
    return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def check_supported(model: SentenceTransformer) -> None:
    """Raise ValueError unless the model is Transformer → Pooling("mean") → Normalize on float32 weights.

    Only that shape is reproduced in numpy; any other model stays on torch.
    """
    shape = [type(module).__name__ for module in model]
    if shape != ["Transformer", "Pooling", "Normalize"]:
        raise ValueError(f"modules {shape}, expected Transformer, Pooling, Normalize")
    if model[1].pooling_mode not in ("mean", ("mean",)):
        raise ValueError(f"pooling {model[1].pooling_mode!r}, expected mean")
    if model.default_prompt_name is not None:
        raise ValueError("the model prepends a default prompt")
    if not model.tokenizer.is_fast or set(model.tokenizer.model_input_names) != set(INPUT_NAMES):
        raise ValueError(f"tokenizer inputs {model.tokenizer.model_input_names}, expected {list(INPUT_NAMES)}")
    if next(model[0].auto_model.parameters()).dtype != torch.float32:
        raise ValueError("weights are not float32")


class _LastHiddenState(torch.nn.Module):
    """The transformer alone, taking the tokenizer's three tensors and returning one: what the exporter traces."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


@contextlib.contextmanager
def _quiet_exporter_logs() -> Iterator[None]:
    """Hold the exporter's graph passes to warnings: at the app's INFO level they log ~100 lines per export."""
    loggers = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def export(model: SentenceTransformer, path: Path) -> None:
    """Export the model's transformer to `path` as one self-contained .onnx file, atomically.

    Batch and sequence axes are dynamic, so one file serves a single query and a 256-token catalog batch, and
    the embedding matrix is exported whatever its size (extended vocabularies included).

    Args:
        model: a model that passes `check_supported`; it is left in the train/eval mode it had.
        path: the target file; a reader sees the old file, the new one, or none — never half of one.
    """
    transformer = model[0].auto_model
    # Trace with padding in the batch, so the graph keeps the attention mask rather than a shortcut for none.
    sample = model.tokenizer(list(PROBE_TEXTS[:2]), padding=True, return_tensors="pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread: processes may share the cache folder, and must never share a temp file.
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.onnx")
    was_training = transformer.training
    try:
        with torch.no_grad(), _quiet_exporter_logs():
            torch.onnx.export(
                _LastHiddenState(transformer).eval(),  # eval: no dropout in the graph
                tuple(sample[name] for name in INPUT_NAMES),
                str(tmp),
                input_names=list(INPUT_NAMES),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES},
                # The TorchScript exporter: ~1 s instead of ~8 s for the dynamo one (bench_encoder.py's run), and the
                # same speed per query. It freezes some of transformers' Python shape checks as constants, which is
                # why every export is checked against torch on padded and unpadded probes before it is used.
                dynamo=False,
                external_data=False,  # one file (≈ 90 MB, far below protobuf's 2 GB), so os.replace is atomic
                verbose=False,
            )
        os.replace(tmp, path)
    finally:
        transformer.train(was_training)
        tmp.unlink(missing_ok=True)


def _session(path: Path) -> onnxruntime.InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One thread: a short query gains little from more, and on 2 cores the other one serves the next search
    # (several run at once) — the same reasoning as search.single_threaded_blas.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """Texts → unit float32 rows, like `model.encode(..., normalize_embeddings=True)`, via onnxruntime.

    `encode` is thread-safe: onnxruntime sessions are, and tokenizer calls are serialised.
    """

    def __init__(self, session: onnxruntime.InferenceSession, tokenizer: PreTrainedTokenizerBase, max_seq_length: int, path: Path) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        self.path = path
        self.dim = int(session.get_outputs()[0].shape[-1])
        # A fast tokenizer's truncation settings live in shared Rust state; concurrent calls can trip over it.
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def for_model(cls, model: SentenceTransformer, fingerprint: str, cache_dir: str | Path) -> OnnxEncoder | None:
        """The model's ONNX encoder, exported on first use and reused from `<cache_dir>/onnx/` afterwards.

        Args:
            model: the loaded model (its tokenizer is used as is; torch is the reference it is checked against).
            fingerprint: `embeddings.model_fingerprint(model_dir)` of the folder the model was loaded from.
            cache_dir: the app's cache folder (`Settings.cache_dir`).

        Returns:
            The encoder, or None (with a warning) when the model is unsupported or export/loading fails:
            the caller then encodes with torch.
        """
        path = export_path(cache_dir, fingerprint)
        try:
            check_supported(model)
            # One export at a time: two sessions opening the same new model export it once, and two different
            # exports (several seconds of CPU each) never compete for the 2 cores.
            with _EXPORT_LOCK:
                if path.is_file():
                    try:
                        return cls._load_checked(model, path)
                    except Exception as err:  # any unusable cached file (corrupt, stale, wrong key) is re-exported
                        log.warning("cached ONNX export %s unusable (%s); exporting again", path.name, err)
                export(model, path)
                log.info("exported model %s to %s", fingerprint, path)
                try:
                    return cls._load_checked(model, path)
                except Exception:
                    path.unlink(missing_ok=True)  # a bad fresh export must not be picked up by the next call
                    raise
        except Exception as err:  # broad on purpose: search must keep working on torch whatever ONNX raised
            log.warning("no ONNX encoder for model %s (%s: %s): falling back to torch", fingerprint, type(err).__name__, err)
            return None

    @classmethod
    def _load_checked(cls, model: SentenceTransformer, path: Path) -> OnnxEncoder:
        """Open `path` and raise OnnxMismatch unless it reproduces `model` on the probe texts."""
        encoder = cls(_session(path), model.tokenizer, model.max_seq_length, path)
        if tuple(i.name for i in encoder.session.get_inputs()) != INPUT_NAMES:
            raise OnnxMismatch(f"inputs {[i.name for i in encoder.session.get_inputs()]}")
        texts = list(PROBE_TEXTS)
        reference = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        for ours in (encoder.encode(texts), encoder.encode(texts, batch_size=1)):  # padded batch, then unpadded
            cosine = float((ours * reference).sum(axis=1).min())
            if cosine < MIN_PROBE_COSINE:
                raise OnnxMismatch(f"cosine to torch {cosine:.6f} < {MIN_PROBE_COSINE}")
        return encoder

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts.

        Args:
            texts: any strings; each is truncated to `max_seq_length` tokens, as sentence-transformers does.
            batch_size: texts per onnxruntime call.

        Returns:
            (len(texts), dim) float32 unit rows, in the order of `texts`.
        """
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Longest first, as sentence-transformers does: texts of similar length share a batch, so little padding.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._tokenizer_lock:
            features = self.tokenizer(
                texts, padding=True, truncation="longest_first", max_length=self.max_seq_length, return_tensors="np"
            )
        feed = {name: features[name].astype(np.int64) for name in INPUT_NAMES}
        (hidden,) = self.session.run(None, feed)
        return mean_pool_normalize(hidden, features["attention_mask"])
