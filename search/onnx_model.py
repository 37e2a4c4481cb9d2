"""A sentence-transformers model exported once to ONNX and run by ONNX Runtime.

For one short question on a CPU, ONNX Runtime runs the same network two to three times faster
than PyTorch does (PyTorch's per-operator dispatch costs more than the arithmetic at this size),
and its vectors agree with PyTorch's to about 1e-7. The export is traced from the loaded model
itself, on this machine, so nothing is downloaded; it is kept in a folder under a name derived
from the weights and the code that exported them, so a changed model is exported again and an
unchanged one is read back in about a second.

With `int8`, all but one of the exported graph's weight products are quantized once more (ONNX
Runtime's dynamic quantization: int8 weights per output channel, activations quantized as they
come), kept beside the export under its own name. A question is then encoded about twice as
fast on a CPU with int8 dot-product instructions; the vectors are near the exact ones (cosine
about .994), not the same (quality measured in docs/performance.md). Activations are quantized
with a scale taken from the whole batch, so a text's vector depends on what it is batched with:
the embedder runs a quantized model one text at a time (search/embedder.py).

The session runs on the calling thread only (no intra-op thread pool): the service loads the
model once in gunicorn's master and forks its workers from it, and a pool's threads do not
survive a fork (a worker would wait for them forever).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Raise when the way the graph is exported changes: earlier exports are then not read back.
EXPORT_FORMAT = 1
# The tokenizer outputs a BERT-like or XLM-R-like encoder takes, in the graph's input order.
_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT = "sentence_embedding"


# Which quantization a quantized model had: in its file name and in the model's name, so that
# neither a kept file nor vectors embedded with an earlier recipe are read back. Change it with
# the quantization's parameters.
INT8_RECIPE = "int8-v1"
# The first layer's feed-forward output product is left in float: its input (the GELU of the
# first layer's expansion) has a few values far larger than the rest, which take most of one int8
# scale. Quantized too, the vectors were farther from the exact ones (cosine .992 against .994 on
# customer messages) and two more questions of the development help centers lost their answer;
# leaving every layer's in float came nearer still (.997) but kept a third of the speed-up
# (docs/performance.md).
_KEPT_EXACT = re.compile(r"/layer\.0/output/dense/")


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
    dynamic = {name: {0: "batch", 1: "tokens"} for name in names}
    with _written_in_place(path, ".export-") as partial, warnings.catch_warnings(), \
            torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on Python-side shape checks
        torch.onnx.export(Pipeline().eval(), tuple(sample[name] for name in names), partial,
                          input_names=names, output_names=[_OUTPUT],
                          dynamic_axes={**dynamic, _OUTPUT: {0: "batch"}},
                          opset_version=17, dynamo=False)


@contextmanager
def _written_in_place(path: Path, prefix: str) -> Iterator[str]:
    """A temporary file beside `path` to write the model to, renamed into place when the block
    ends well and removed when it does not: a process reading the folder, or a write cut short,
    never finds a half-written model under the real name."""
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".onnx")
    os.close(handle)
    try:
        yield partial
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


def quantize(exported: Path, path: Path) -> None:
    """The exported graph with its matrix products in int8 (weights per output channel), but for
    those `kept_exact` names, written to `path` the way `export` writes."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer suggests a shape pre-processing pass on the root logger, which fails on these
    # graphs ("incomplete symbolic shape inference") and measured no nearer vectors without it.
    quiet = _DropMessage("pre-processing before quantization")
    logging.getLogger().addFilter(quiet)
    try:
        with _written_in_place(path, ".quantize-") as partial:
            quantize_dynamic(exported, partial, weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"],
                             nodes_to_exclude=kept_exact(exported))
    finally:
        logging.getLogger().removeFilter(quiet)


def kept_exact(exported: Path) -> list[str]:
    """The matrix products `quantize` leaves in float: the first feed-forward block's output."""
    import onnx

    graph = onnx.load(str(exported), load_external_data=False).graph
    return [node.name for node in graph.node
            if node.op_type == "MatMul" and _KEPT_EXACT.search(node.name)]


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str):
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def load_onnx_model(model: Any, folder: Path, int8: bool = False) -> OnnxModel:
    """The model's ONNX export in `folder`, or with `int8` its quantized version; made first
    (the quantized one from the export) when it is not there or cannot be read."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OnnxUnavailable("onnxruntime is not installed (pip install onnxruntime)") from exc
    inputs = model_inputs(model)
    exact = folder / export_name(model)
    if not int8:
        return _made_once(exact, inputs, "exporting the model to ONNX",
                          lambda: export(model, exact))

    def quantize_export() -> None:
        _made_once(exact, inputs, "exporting the model to ONNX", lambda: export(model, exact))
        quantize(exact, quantized)

    quantized = exact.with_name(f"{exact.stem}-{INT8_RECIPE}.onnx")
    return _made_once(quantized, inputs, "quantizing the model to int8", quantize_export)


def _made_once(path: Path, inputs: list[str], making: str, make: Callable[[], None]
               ) -> OnnxModel:
    """The session for the model file `path`, made by `make` when it is missing or unreadable."""
    if path.is_file():
        try:
            return OnnxModel(path, inputs)
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            log.warning("the model file %s cannot be read (%s); making it again", path, exc)
    log.info("%s in %s: once per model, it takes a minute or two", making, path)
    try:
        make()
        return OnnxModel(path, inputs)
    except OSError as exc:
        raise OnnxUnavailable(f"cannot write the model file to {path.parent}: {exc}") from exc
    except Exception as exc:  # tracing and quantizing raise many types for graphs they cannot follow
        raise OnnxUnavailable(f"{making} failed ({type(exc).__name__}: {exc})") from exc
