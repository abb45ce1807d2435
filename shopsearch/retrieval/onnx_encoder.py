"""Encode texts with an ONNX export of a model's transformer, run by onnxruntime on one CPU thread.

torch stays the trainer and the reference. The transformer (a BertModel) is exported once per model fingerprint
and cached on disk, then fused by onnxruntime's transformer optimizer (one Attention op per layer and one
EmbedLayerNorm: 76 nodes instead of ~630), all in float32. Residual adds stay Add + LayerNormalization and the
feed-forward's bias stays Add + Gelu: onnxruntime's fused SkipLayerNorm and BiasGelu kernels are slower on a CPU at
query lengths (12 SkipLayerNorms took ~3× as long as the Adds and LayerNormalizations they replace, and a whole
10-token query 3–10 % longer: bench/bench_fusions.py, BENCHMARKS.md). Mean pooling over the attention mask and L2
normalisation run in numpy, exactly as the model's Pooling("mean") and Normalize modules do. Texts are tokenised by
a private copy of the model's Rust tokenizer, configured once (truncation, pad to the longest in the batch).

Where a single short query's time goes (bench/bench_encoder.py, seed model, one thread): almost all of it is the
transformer's matrix products, which are bound by reading its ~42 MB of float32 weights; tokenisation, int64
inputs and numpy pooling together cost well under 0.1 ms. Weight-only int8 (MatMulNBits) halves the bytes but
gave a worst catalog cosine of 0.9998 (< 0.9999), and was slower unless activations were quantised too (0.9994).

An export is trusted only after it reproduces torch on a few probe texts; anything that goes wrong leaves the
caller on torch (`OnnxEncoder.for_model` returns None).

An export carries what encoding needs besides its graph, in its metadata: the configured tokenizer, the maximum
length, and torch's vectors for the probe texts. So a cached export is loaded and checked without
torch, transformers or sentence-transformers (`OnnxEncoder.cached`): the app serves its first page and first search
without importing the training stack (~6 CPU-seconds), and imports it afterwards, in the background.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from tokenizers import Tokenizer

from shopsearch.retrieval.embeddings import model_fingerprint

if TYPE_CHECKING:
    import onnxruntime
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Transformer
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Checked against torch before an export is used: Chinese with [UNK]s, latin model numbers, and a batch of
# mixed lengths, so the attention mask over padding is exercised too.
PROBE_TEXTS = ("寻找一款K7", "wireless router 无线路由器 AX3000，保温杯 500ml", "猫")
MIN_PROBE_COSINE = 0.9999
# Part of the file name: exports made by an older recipe (unfused; fused1 had no metadata; fused2 had SkipLayerNorm and
# BiasGelu) are not picked up, and are deleted at start-up and on re-export (remove_stale_exports).
EXPORT_FORMAT = "fused3"
# onnxruntime's own session-time fusions that would rebuild what the export leaves unfused (see the module docstring).
UNFUSED_AT_SESSION = ("SkipLayerNormFusion", "BiasGeluFusion")
# The export's metadata (onnx metadata_props), written at export time from the model and torch.
META_TOKENIZER = "shopsearch.tokenizer"  # the Rust tokenizer's JSON, truncation and padding set (private_tokenizer)
META_MAX_LENGTH = "shopsearch.max_seq_length"
META_PROBES = "shopsearch.probe_vectors"  # torch's unit vectors for PROBE_TEXTS, as a JSON list of lists
# onnxruntime's fusion passes log each fusion at INFO under these top-level logger names.
_OPTIMIZER_LOGGERS = ("onnxscript", "onnx_ir", "onnx_model", "fusion_", "onnxruntime.transformers")
_EXPORT_LOCK = threading.Lock()


class OnnxMismatch(RuntimeError):
    """An export (fresh or cached) does not reproduce the torch model's embeddings."""


def export_path(cache_dir: str | Path, fingerprint: str) -> Path:
    """Where the export of the model with this fingerprint lives. Example: ("/c", "ab12") -> /c/onnx/ab12.fused3.onnx"""
    return Path(cache_dir) / "onnx" / f"{fingerprint}.{EXPORT_FORMAT}.onnx"


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
    if model.tokenizer.padding_side != "right":  # the fused attention reads each row's mask as a length
        raise ValueError(f"the tokenizer pads on the {model.tokenizer.padding_side}")
    import torch

    if next(cast("Transformer", model[0]).auto_model.parameters()).dtype != torch.float32:  # the shape above: model[0] is a Transformer
        raise ValueError("weights are not float32")


def _last_hidden_state(transformer):  # -> torch.nn.Module; torch is imported only by exports
    """The transformer alone, taking the tokenizer's three tensors and returning one: what the exporter traces."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    return LastHiddenState()


def _metadata(model: SentenceTransformer) -> dict[str, str]:
    """What the export must carry to encode without the model: see the META_ constants."""
    reference = model.encode(list(PROBE_TEXTS), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    return {
        # sentence-transformers types max_seq_length `int | None`; the models exported here set it (an assert would change how a None fails).
        META_TOKENIZER: private_tokenizer(model.tokenizer, model.max_seq_length).to_str(),  # type: ignore[arg-type]
        META_MAX_LENGTH: str(model.max_seq_length),
        META_PROBES: json.dumps(reference.astype(float).tolist()),
    }


@contextlib.contextmanager
def _quiet_export_logs() -> Iterator[None]:
    """Hold the exporter's and the fusion's passes to warnings, and drop the tracer's expected warnings.

    At the app's INFO level they would log ~100 lines per export.
    """
    import torch

    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if name.startswith(_OPTIMIZER_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # The tracer's notes on shape checks it freezes and on advanced indexing: expected for this graph, and the
            # probes check the result, so they would only alarm whoever reads the app's log.
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def export(model: SentenceTransformer, path: Path) -> dict[str, int]:
    """Export the model's transformer to `path` as one fused, self-contained float32 .onnx file, atomically.

    Batch and sequence axes are dynamic, so one file serves a single query and a 256-token catalog batch, and
    the embedding matrix is exported whatever its size (extended vocabularies included). Should onnxruntime's
    fusion fail, the plain export is kept (correct, about 10 % slower per query) and a warning says so.

    Args:
        model: a model that passes `check_supported`; it is not modified.
        path: the target file; a reader sees the old file, the new one, or none — never half of one.

    Returns:
        The fused operators and their counts. Example: {"Attention": 6, "EmbedLayerNormalization": 1, "Gelu": 6, ...}
    """
    import onnx
    import torch
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model  # only an export needs it (it extends sys.path)

    # A copy with eager attention: transformers' SDPA path traces into ~630 nodes (NaN guards, mask arithmetic) that
    # the fusion does not recognise, the eager one into the pattern it fuses into one Attention op per layer. The copy
    # leaves the caller's model, which other threads may be encoding with, untouched.
    transformer = copy.deepcopy(cast("Transformer", model[0]).auto_model).eval()  # eval: no dropout in the graph
    transformer.set_attn_implementation("eager")
    config = transformer.config
    # Trace with padding in the batch, so the graph keeps the attention mask rather than a shortcut for none.
    sample = model.tokenizer(list(PROBE_TEXTS[:2]), padding=True, return_tensors="pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread: processes may share the cache folder, and must never share a temp file.
    stem = f"{path.stem}.{os.getpid()}.{threading.get_ident()}"
    plain, fused_tmp = path.with_name(f"{stem}.plain.tmp.onnx"), path.with_name(f"{stem}.tmp.onnx")
    try:
        with torch.no_grad(), _quiet_export_logs():
            metadata = _metadata(model)
            torch.onnx.export(
                _last_hidden_state(transformer),
                tuple(sample[name] for name in INPUT_NAMES),
                str(plain),
                input_names=list(INPUT_NAMES),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES},
                # The TorchScript exporter: ~1 s instead of ~8 s for the dynamo one, and the same speed per query. It
                # freezes some of transformers' Python shape checks as constants, which is why every export is
                # checked against torch on padded and unpadded probes before it is used.
                dynamo=False,
                external_data=False,  # one file (≈ 90 MB, far below protobuf's 2 GB), so os.replace is atomic
                verbose=False,
            )
            try:
                # Fusion only, in float32: float16 would halve the file but run slower on a CPU. Attention and the
                # embeddings are fused; SkipLayerNorm and BiasGelu are not (slower kernels, see the module docstring).
                options = FusionOptions("bert")
                options.enable_skip_layer_norm = options.enable_bias_skip_layer_norm = options.enable_bias_gelu = False
                fused = optimize_model(
                    str(plain),
                    model_type="bert",
                    num_heads=config.num_attention_heads,
                    hidden_size=config.hidden_size,
                    optimization_options=options,
                )
            except Exception as err:  # noqa: BLE001 — the plain graph is still right; the probes check whichever file is kept
                log.warning("onnxruntime could not fuse the export (%s: %s); keeping the plain graph", type(err).__name__, err)
                graph = onnx.load(str(plain))
                onnx.helper.set_model_props(graph, metadata)
                onnx.save(graph, str(fused_tmp))
                os.replace(fused_tmp, path)
                return {}
            onnx.helper.set_model_props(fused.model, metadata)
            fused.save_model_to_file(str(fused_tmp))
            counts = {op: count for op, count in fused.get_fused_operator_statistics().items() if count}
        os.replace(fused_tmp, path)
        return counts
    finally:
        plain.unlink(missing_ok=True)
        fused_tmp.unlink(missing_ok=True)


def remove_stale_exports(cache_dir: str | Path, fingerprint: str | None = None) -> list[str]:
    """Delete exports in an older format (`ab12.onnx`, `ab12.fused2.onnx`), which nothing reads again: one model's
    (`fingerprint`, after it is exported anew), or every model's (None, at start-up: a model not exported again, such
    as an earlier version of a shipped one, would leave ~90 MB behind per format). Temp files of an export under way
    (`ab12.fused3.<pid>.<thread>.tmp.onnx`) and other files are left alone.

    Returns:
        The names of the files deleted.
    """
    folder = Path(cache_dir) / "onnx"
    export = re.compile(rf"{re.escape(fingerprint) if fingerprint else '[0-9a-f]+'}(\.[a-z0-9]+)?\.onnx")
    stale = [
        path
        for path in (folder.glob("*.onnx") if folder.is_dir() else ())
        if export.fullmatch(path.name) and not path.name.endswith(f".{EXPORT_FORMAT}.onnx")
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    if stale and fingerprint is None:
        log.info("removed %d ONNX exports in an older format", len(stale))
    return sorted(path.name for path in stale)


def _session(path: Path, save_optimized_to: Path | None = None) -> onnxruntime.InferenceSession:
    """One-thread CPU session on an export; `save_optimized_to` writes the graph as onnxruntime will run it (to inspect)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if save_optimized_to is not None:
        options.optimized_model_filepath = str(save_optimized_to)
    # One thread: a short query gains little from more, and on 2 cores the other one serves the next search
    # (several run at once) — the same reasoning as search.single_threaded_blas.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=list(UNFUSED_AT_SESSION))


def private_tokenizer(tokenizer: PreTrainedTokenizerBase, max_length: int) -> Tokenizer:
    """A copy of a fast tokenizer's Rust tokenizer, set once to tokenise as sentence-transformers does.

    Truncation to `max_length` tokens (special tokens included) and padding to the longest text of a batch, on
    the right. Being a copy that nobody reconfigures, it needs no lock, and skipping transformers' per-call
    set-up costs ~0.05–0.2 ms less per query than `tokenizer(...)`.

    Example: private_tokenizer(model.tokenizer, 256).encode_batch(["寻找一款K7"])[0].ids -> [101, ..., 102]
    """
    backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.enable_truncation(max_length, stride=0, strategy="longest_first", direction=tokenizer.truncation_side)
    backend.enable_padding(direction="right", pad_id=tokenizer.pad_token_id, pad_type_id=tokenizer.pad_token_type_id, pad_token=tokenizer.pad_token)
    return backend


class OnnxEncoder:
    """Texts → unit float32 rows, like `model.encode(..., normalize_embeddings=True)`, via onnxruntime.

    `encode` is thread-safe: onnxruntime sessions are, and the private tokenizer is never reconfigured.
    """

    def __init__(self, session: onnxruntime.InferenceSession, tokenizer: Tokenizer, max_seq_length: int, path: Path) -> None:
        """Use `from_export` (or `cached` / `for_model`): they check the export before it is used."""
        self.session = session
        self.tokenizer = tokenizer  # configured by private_tokenizer: truncation and padding
        self.max_seq_length = max_seq_length
        self.path = path
        self.dim = int(session.get_outputs()[0].shape[-1])

    @classmethod
    def from_export(cls, path: Path) -> OnnxEncoder:
        """Open an export and check it against the torch vectors it carries. Torch-free.

        Raises:
            OnnxMismatch: the export has no metadata (an older format) or no longer reproduces its probe vectors.
            Any onnxruntime or I/O error for an unreadable file.
        """
        session = _session(path)
        meta = session.get_modelmeta().custom_metadata_map
        missing = [key for key in (META_TOKENIZER, META_MAX_LENGTH, META_PROBES) if key not in meta]
        if missing:
            raise OnnxMismatch(f"metadata missing: {missing}")
        encoder = cls(session, Tokenizer.from_str(meta[META_TOKENIZER]), int(meta[META_MAX_LENGTH]), path)
        if tuple(i.name for i in session.get_inputs()) != INPUT_NAMES:
            raise OnnxMismatch(f"inputs {[i.name for i in session.get_inputs()]}")
        encoder.check(np.asarray(json.loads(meta[META_PROBES]), dtype=np.float32))
        return encoder

    @classmethod
    def cached(cls, cache_dir: str | Path, fingerprint: str) -> OnnxEncoder | None:
        """The model's checked export if one is cached, loaded without torch; None when there is none (or it fails)."""
        path = export_path(cache_dir, fingerprint)
        if not path.is_file():
            return None
        try:
            return cls.from_export(path)
        except Exception as err:  # noqa: BLE001 — the caller takes the torch path, which exports again
            log.warning("cached ONNX export %s unusable (%s); the model will be loaded in torch", path.name, err)
            return None

    def check(self, reference: np.ndarray) -> None:
        """Raise OnnxMismatch unless this encoder reproduces `reference` (unit rows for PROBE_TEXTS), padded and not."""
        texts = list(PROBE_TEXTS)
        for ours in (self.encode(texts), self.encode(texts, batch_size=1)):  # padded batch, then unpadded
            cosine = float((ours * reference).sum(axis=1).min())
            if cosine < MIN_PROBE_COSINE:
                raise OnnxMismatch(f"cosine to torch {cosine:.6f} < {MIN_PROBE_COSINE}")

    @classmethod
    def for_model(cls, model: SentenceTransformer, fingerprint: str, cache_dir: str | Path) -> OnnxEncoder | None:
        """The model's ONNX encoder, exported on first use and reused from `<cache_dir>/onnx/` afterwards.

        Args:
            model: the loaded model (its tokenizer is copied; torch is the reference the export is checked against).
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
                    except Exception as err:  # noqa: BLE001 — any unusable cached file (corrupt, stale, wrong key) is re-exported
                        log.warning("cached ONNX export %s unusable (%s); exporting again", path.name, err)
                fused = export(model, path)
                log.info("exported model %s to %s (fused: %s)", fingerprint, path, fused or "nothing")
                remove_stale_exports(cache_dir, fingerprint)
                try:
                    return cls._load_checked(model, path)
                except Exception:
                    path.unlink(missing_ok=True)  # a bad fresh export must not be picked up by the next call
                    raise
        except Exception as err:  # noqa: BLE001 — broad on purpose: search must keep working on torch whatever ONNX raised
            log.warning("no ONNX encoder for model %s (%s: %s): falling back to torch", fingerprint, type(err).__name__, err)
            return None

    @classmethod
    def _load_checked(cls, model: SentenceTransformer, path: Path) -> OnnxEncoder:
        """Open `path` and raise OnnxMismatch unless it reproduces its stored probe vectors and `model` itself."""
        encoder = cls.from_export(path)
        encoder.check(model.encode(list(PROBE_TEXTS), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))
        return encoder

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model's three int64 inputs for `texts`, truncated and padded to the longest; see `private_tokenizer`."""
        encodings = self.tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts.

        Args:
            texts: any strings; each is truncated to `max_seq_length` tokens, as sentence-transformers does.
            batch_size: texts per onnxruntime call.

        Returns:
            (len(texts), dim) float32 unit rows, in the order of `texts`.
        """
        texts = list(texts)
        if len(texts) == 1:  # a search query: skip the sorting below
            return self._encode_batch(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Longest first, as sentence-transformers does: texts of similar length share a batch, so little padding.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        feed = self.tokenize(texts)
        (hidden,) = self.session.run(None, feed)
        return mean_pool_normalize(hidden, feed["attention_mask"])


def export_saved_model(model: SentenceTransformer, model_dir: str | Path, cache_dir: str | Path) -> bool:
    """Export a model just saved to `model_dir`, so that its first search loads the export instead of making it.

    Called by the trainers right after saving: the export is keyed by the saved folder's fingerprint, which is what
    the app looks it up by (ModelStore → build_engine → OnnxEncoder.for_model). `model` must hold the weights as saved
    (`training.save_atomically` rounds them in place when it saves float16).

    Args:
        model: the trained model, still in memory.
        model_dir: the folder it was saved to.
        cache_dir: the app's cache folder (`Settings.cache_dir`, `ModelStore.cache.directory`).

    Returns:
        Whether a checked export is ready; False (the reason logged) leaves the run on torch, as for_model does.
    """
    return OnnxEncoder.for_model(model, model_fingerprint(model_dir), cache_dir) is not None
