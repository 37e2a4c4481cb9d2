"""A sentence-transformers model exported once to ONNX and run by ONNX Runtime.

For one short question on a CPU, ONNX Runtime runs the same network two to three times faster
than PyTorch does (PyTorch's per-operator dispatch costs more than the arithmetic at this size),
and its vectors agree with PyTorch's to about 1e-7. The export is traced from the loaded model
itself, on this machine, so nothing is downloaded; it is kept in a folder under a name derived
from the weights and the code that exported them, so a changed model is exported again and an
unchanged one is read back in about a second.

The session runs on the calling thread only (no intra-op thread pool): the service loads the
model once in gunicorn's master and forks its workers from it, and a pool's threads do not
survive a fork (a worker would wait for them forever).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Raise when the way the graph is exported changes: earlier exports are then not read back.
EXPORT_FORMAT = 1
# The tokenizer outputs a BERT-like or XLM-R-like encoder takes, in the graph's input order.
_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT = "sentence_embedding"


class OnnxUnavailable(RuntimeError):
    """This model cannot run in ONNX Runtime here; the message says why."""


def model_inputs(model: Any) -> list[str]:
    """The tokenizer outputs the model reads, as its preprocessing produces them."""
    features = model.preprocess(["a"])
    return [name for name in _MODEL_INPUTS if name in features]


def export_name(model: Any) -> str:
    """A file name that changes with the weights, the modules, the sequence length and the
    versions of the code that traces them."""
    import sentence_transformers
    import torch

    digest = hashlib.sha256()
    digest.update(repr((EXPORT_FORMAT, torch.__version__, sentence_transformers.__version__,
                        model.max_seq_length, str(model))).encode("utf-8"))
    for name, tensor in model.state_dict().items():
        digest.update(name.encode("utf-8"))
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().data)
    return f"model-{digest.hexdigest()[:24]}.onnx"


def export(model: Any, path: Path) -> None:
    """Trace the whole pipeline (encoder, pooling, any dense layers) into one ONNX graph whose
    output is the sentence embedding before normalization."""
    import torch

    names = model_inputs(model)
    sample = model.preprocess(["an example sentence to trace", "short"])

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(names, tensors)))[_OUTPUT]

    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the final name and renamed into place: a process reading the folder, or
    # an export cut short, never leaves a half-written model under the real name.
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".onnx")
    os.close(handle)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in names}
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notes on Python-side shape checks
            torch.onnx.export(Pipeline().eval(), tuple(sample[name] for name in names), partial,
                              input_names=names, output_names=[_OUTPUT],
                              dynamic_axes={**dynamic, _OUTPUT: {0: "batch"}},
                              opset_version=17, dynamo=False)
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from the service's own user
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


class OnnxModel:
    """The exported graph in an ONNX Runtime session that runs on the calling thread."""

    def __init__(self, path: Path, inputs: list[str]):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No arena and no per-shape allocation plans: both keep memory for the largest question
        # seen so far in each worker, and measured no faster for one question at a time.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        self.path = path
        self.inputs = inputs
        self._session = onnxruntime.InferenceSession(str(path), options,
                                                     providers=["CPUExecutionProvider"])

    def run(self, features: Mapping[str, Any]) -> np.ndarray:
        """Sentence embeddings (not normalized) for the tokenizer's output."""
        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in self.inputs}
        return self._session.run([_OUTPUT], feeds)[0]


def load_onnx_model(model: Any, folder: Path) -> OnnxModel:
    """The model's ONNX export in `folder` (exported first if it is not there or unreadable)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OnnxUnavailable("onnxruntime is not installed (pip install onnxruntime)") from exc
    inputs = model_inputs(model)
    path = folder / export_name(model)
    if path.is_file():
        try:
            return OnnxModel(path, inputs)
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            log.warning("the exported model %s cannot be read (%s); exporting it again", path,
                        exc)
    log.info("exporting the model to ONNX in %s: once per model, it takes a minute or two", path)
    try:
        export(model, path)
        return OnnxModel(path, inputs)
    except OSError as exc:
        raise OnnxUnavailable(f"cannot write the exported model to {folder}: {exc}") from exc
    except Exception as exc:  # tracing raises many types for architectures it cannot follow
        raise OnnxUnavailable(f"the model cannot be exported to ONNX "
                              f"({type(exc).__name__}: {exc})") from exc
