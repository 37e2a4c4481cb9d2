"""The bundled model exported to ONNX and run by ONNX Runtime: same vectors, kept, forkable."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import search.onnx_model
from benchmarks.stand_in_model import build_xlm_roberta
from kb.settings import SettingsError, load_settings
from search.direct_tokens import SAMPLE_TEXTS, direct_tokenizer
from search.embedder import INT8_NAME_SUFFIX, OFFLINE_MODEL, ModelLoadError, \
    SentenceTransformerEmbedder, load_embedder, offline_model_path

pytestmark = pytest.mark.slow

TEXTS = ["I forgot my password", "jag har glömt mitt lösenord", "не могу войти в аккаунт", "x",
         "a long article paragraph about refunds, invoices and card payments " * 20]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def onnx_embedder(export_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx", export_dir=export_dir)


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(OFFLINE_MODEL)


def test_onnx_gives_the_vectors_pytorch_gives(onnx_embedder: SentenceTransformerEmbedder,
                                              torch_embedder: SentenceTransformerEmbedder) -> None:
    assert onnx_embedder.runtime == "onnx" and torch_embedder.runtime == "torch"
    documents = onnx_embedder.encode_documents(TEXTS)
    assert documents.shape == (len(TEXTS), 384) and documents.dtype == np.float32
    assert np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    # Batched with padding, in another order than given, and back in the caller's order.
    assert np.abs(documents - torch_embedder.encode_documents(TEXTS)).max() < 1e-5
    for position, text in enumerate(TEXTS):
        query = onnx_embedder.encode_queries([text])
        assert np.abs(query - torch_embedder.encode_queries([text])).max() < 1e-5
        assert np.abs(query[0] - documents[position]).max() < 1e-5


def test_a_question_is_read_by_the_tokenizer_core_with_the_same_vector(
        onnx_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    direct = onnx_embedder._direct
    assert direct is not None
    model = onnx_embedder._model
    for text in (*TEXTS, *SAMPLE_TEXTS):
        expected = model.preprocess([text])
        got = direct.features(text)
        assert set(got) == {"input_ids", "attention_mask", "token_type_ids"}
        assert all(np.array_equal(expected[name].numpy(), got[name]) for name in got)
    fast = [onnx_embedder.encode_queries([text]) for text in TEXTS]
    monkeypatch.setattr(onnx_embedder, "_direct", None)
    assert all(np.array_equal(vector, onnx_embedder.encode_queries([text]))
               for vector, text in zip(fast, TEXTS))


class CutsLongTextsShort:
    """The bundled model's tokenizer, with preprocessing that cuts texts where the tokenizer's
    own truncation would not: as a model with its own text handling would."""

    def __init__(self, model: object):
        self.tokenizer = model.tokenizer  # type: ignore[attr-defined]
        self.max_seq_length = model.max_seq_length  # type: ignore[attr-defined]
        self._model = model

    def preprocess(self, texts: list[str], prompt: str | None = None) -> dict:
        return self._model.preprocess([text[:200] for text in texts], prompt=prompt)


def test_a_model_whose_preprocessing_differs_keeps_its_own(
        onnx_embedder: SentenceTransformerEmbedder) -> None:
    model = onnx_embedder._model
    inputs = onnx_embedder._onnx.inputs
    assert direct_tokenizer(model, inputs, None) is not None
    assert direct_tokenizer(CutsLongTextsShort(model), inputs, None) is None
    # A prompt is part of what is compared (and of every question read).
    prompted = direct_tokenizer(model, inputs, "query: ")
    assert prompted is not None
    assert np.array_equal(prompted.features("refund")["input_ids"],
                          model.preprocess(["refund"], prompt="query: ")["input_ids"].numpy())


def test_the_export_is_read_back_not_made_again(
        export_dir: Path, onnx_embedder: SentenceTransformerEmbedder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(search.onnx_model, "export", no_export)
    again = SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx", export_dir=export_dir)
    assert again.runtime == "onnx"
    assert [p.name for p in export_dir.iterdir()] == [again._onnx.path.name]
    assert np.array_equal(again.encode_queries(TEXTS[:1]), onnx_embedder.encode_queries(TEXTS[:1]))


def test_a_damaged_export_is_made_again(tmp_path: Path, export_dir: Path,
                                        onnx_embedder: SentenceTransformerEmbedder,
                                        caplog: pytest.LogCaptureFixture) -> None:
    name = onnx_embedder._onnx.path.name
    (tmp_path / name).write_bytes(b"half of a model")
    with caplog.at_level(logging.INFO):
        embedder = SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx", export_dir=tmp_path)
    assert "making it again" in caplog.text
    assert "exporting the model to ONNX" in caplog.text  # `kb index` shows it while it waits
    assert embedder.runtime == "onnx"
    assert (tmp_path / name).read_bytes() == (export_dir / name).read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial file left behind
    assert np.array_equal(embedder.encode_queries(TEXTS[:1]),
                          onnx_embedder.encode_queries(TEXTS[:1]))


def test_a_model_that_cannot_be_exported_runs_in_pytorch(
        tmp_path: Path, torch_embedder: SentenceTransformerEmbedder,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def failing_export(model: object, path: Path) -> None:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(search.onnx_model, "export", failing_export)
    with caplog.at_level(logging.WARNING):
        embedder = SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx", export_dir=tmp_path)
    assert embedder.runtime == "torch"
    assert "runs in PyTorch" in caplog.text and "unsupported operator" in caplog.text
    assert np.array_equal(embedder.encode_queries(TEXTS[:1]),
                          torch_embedder.encode_queries(TEXTS[:1]))


def test_an_unwritable_export_folder_runs_in_pytorch(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        embedder = SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx",
                                               export_dir=blocked / "onnx")
    assert embedder.runtime == "torch"
    assert "cannot write the model file" in caplog.text
    assert embedder.encode_queries(["hello"]).shape == (1, 384)


def _encode_in_child(embedder: SentenceTransformerEmbedder, results: "multiprocessing.Queue") -> None:
    results.put(embedder.encode_queries(["asked in a forked worker"]))


def test_a_forked_worker_can_use_the_session_loaded_before_the_fork(
        onnx_embedder: SentenceTransformerEmbedder) -> None:
    # gunicorn loads the model in its master and forks the workers: a session that relied on
    # threads started before the fork would wait for them forever in the child.
    expected = onnx_embedder.encode_queries(["asked in a forked worker"])
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_encode_in_child, args=(onnx_embedder, results))
    child.start()
    child.join(timeout=60)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "the forked process never finished encoding"
    assert child.exitcode == 0
    assert np.array_equal(results.get(timeout=5), expected)


def count_overlapping_runs(embedder: SentenceTransformerEmbedder,
                           monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Slow each ONNX pass down and record (in the returned list's one item) how many ran at
    once at the most."""
    running, most = [0], [0]
    guard = threading.Lock()
    run = type(embedder._onnx).run

    def counting_run(self, features):  # type: ignore[no-untyped-def]
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the other threads to arrive
            return run(self, features)
        finally:
            with guard:
                running[0] -= 1

    monkeypatch.setattr(type(embedder._onnx), "run", counting_run)
    return most


def test_concurrent_questions_take_turns_on_the_onnx_session(
        onnx_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    most = count_overlapping_runs(onnx_embedder, monkeypatch)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda t: onnx_embedder.encode_queries([t]), TEXTS))
    assert most[0] == 1


def test_an_unknown_runtime_is_refused_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="onnx, onnx-int8, torch"):
        load_embedder(OFFLINE_MODEL, runtime="tensorrt", export_dir=tmp_path)
    with pytest.raises(SettingsError,
                       match="KB_MODEL_RUNTIME.*expected one of onnx, onnx-int8, torch"):
        load_settings({"KB_MODEL_RUNTIME": "gpu", "KB_INSTANCE_PATH": str(tmp_path)})
    assert load_settings({"KB_MODEL_RUNTIME": "Torch",
                          "KB_INSTANCE_PATH": str(tmp_path)})["MODEL_RUNTIME"] == "torch"
    assert load_settings({"KB_MODEL_RUNTIME": "onnx-int8",
                          "KB_INSTANCE_PATH": str(tmp_path)})["MODEL_RUNTIME"] == "onnx-int8"


def test_a_command_embeds_document_batches_side_by_side(
        onnx_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"article paragraph number {n} about " + "refunds " * (n % 7) for n in range(40)]
    one_at_a_time = onnx_embedder.encode_documents(texts)
    most = count_overlapping_runs(onnx_embedder, monkeypatch)
    monkeypatch.setattr(onnx_embedder, "document_threads", 2)
    side_by_side = onnx_embedder.encode_documents(texts)
    assert most[0] == 2
    assert np.array_equal(side_by_side, one_at_a_time)  # same batches, same order of rows


def test_document_batches_hold_texts_of_about_the_same_token_count(
        onnx_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    # Characters are a poor guide to tokens: a long word may be one token, a short one several.
    # Every text of a batch is padded to its longest, so mixing them wastes the whole pass.
    texts = [*("internationalization " * n for n in range(4, 12)),
             *("x y z " * n for n in range(4, 12))]
    lengths: list[list[int]] = []
    run = type(onnx_embedder._onnx).run

    def recording_run(self, features):  # type: ignore[no-untyped-def]
        lengths.append(np.asarray(features["attention_mask"]).sum(axis=1).tolist())
        return run(self, features)

    monkeypatch.setattr(type(onnx_embedder._onnx), "run", recording_run)
    vectors = onnx_embedder.encode_documents(texts)
    padded = sum(max(batch) * len(batch) for batch in lengths)
    assert padded <= 1.2 * sum(sum(batch) for batch in lengths)
    for position, text in enumerate(texts):  # and each row is still its own text's vector
        assert np.abs(vectors[position] - onnx_embedder.encode_queries([text])[0]).max() < 1e-5


@pytest.fixture
def xlm_roberta_model(tmp_path: Path) -> Path:
    """A tiny random model of the XLM-RoBERTa family (as multilingual-e5 is): its tokenizer gives
    no token_type_ids. Built from the bundled model's tokenizer files; nothing downloaded."""
    return build_xlm_roberta(tmp_path / "tiny-xlmr", vocab_size=30522, hidden_size=32,
                             num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                             max_position_embeddings=300)


def test_a_model_without_token_type_ids_exports_and_agrees(xlm_roberta_model: Path,
                                                           tmp_path: Path) -> None:
    torch_run = SentenceTransformerEmbedder(str(xlm_roberta_model))
    onnx_run = SentenceTransformerEmbedder(str(xlm_roberta_model), runtime="onnx",
                                           export_dir=tmp_path / "exports")
    assert onnx_run.runtime == "onnx" and onnx_run._onnx.inputs == ["input_ids", "attention_mask"]
    assert onnx_run._direct is not None and set(onnx_run._direct.features("x")) == {
        "input_ids", "attention_mask"}
    assert np.abs(onnx_run.encode_documents(TEXTS) - torch_run.encode_documents(TEXTS)).max() < 1e-5
    assert np.abs(onnx_run.encode_queries(TEXTS[:1]) - torch_run.encode_queries(TEXTS[:1])).max() \
        < 1e-5
    # The production model's family quantizes through the same path.
    int8_run = SentenceTransformerEmbedder(str(xlm_roberta_model), runtime="onnx-int8",
                                           export_dir=tmp_path / "exports")
    assert int8_run.runtime == "onnx-int8" and int8_run._onnx.inputs == ["input_ids",
                                                                         "attention_mask"]
    assert cosines(int8_run.encode_documents(TEXTS), torch_run.encode_documents(TEXTS)).min() > 0.95


@pytest.fixture(scope="module")
def int8_embedder(export_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx-int8", export_dir=export_dir)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)  # both are unit vectors


def test_int8_gives_near_vectors_under_a_name_of_its_own(
        int8_embedder: SentenceTransformerEmbedder,
        onnx_embedder: SentenceTransformerEmbedder) -> None:
    assert int8_embedder.runtime == "onnx-int8"
    # Near, not equal: the embedding cache and an index must never mix the two.
    assert int8_embedder.name == OFFLINE_MODEL + INT8_NAME_SUFFIX != onnx_embedder.name
    quantized = int8_embedder.encode_documents(TEXTS)
    exact = onnx_embedder.encode_documents(TEXTS)
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-5)
    assert cosines(quantized, exact).min() > 0.98
    assert np.abs(quantized - exact).max() > 1e-4
    # Each text is still nearest its own exact vector, questions as documents.
    questions = np.vstack([int8_embedder.encode_queries([text]) for text in TEXTS])
    assert np.abs(questions - quantized).max() < 1e-5
    assert list(np.argmax(questions @ exact.T, axis=1)) == list(range(len(TEXTS)))


def test_the_quantized_model_is_kept_beside_the_export_and_read_back(
        export_dir: Path, int8_embedder: SentenceTransformerEmbedder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_quantizing(*args: object) -> None:
        raise AssertionError("quantized again")

    monkeypatch.setattr(search.onnx_model, "quantize", no_quantizing)
    monkeypatch.setattr(search.onnx_model, "export", no_quantizing)
    again = SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx-int8", export_dir=export_dir)
    assert again.runtime == "onnx-int8"
    assert again._onnx.path.parent == export_dir and again._onnx.path.name.endswith(
        search.onnx_model.INT8_RECIPE + ".onnx")
    assert np.array_equal(again.encode_queries(TEXTS[:1]), int8_embedder.encode_queries(TEXTS[:1]))


def test_a_model_that_cannot_be_quantized_runs_unquantized(
        export_dir: Path, tmp_path: Path, onnx_embedder: SentenceTransformerEmbedder,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def failing_quantize(exported: Path, path: Path) -> None:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(search.onnx_model, "quantize", failing_quantize)
    name = onnx_embedder._onnx.path.name
    (tmp_path / name).write_bytes((export_dir / name).read_bytes())
    with caplog.at_level(logging.WARNING):
        embedder = SentenceTransformerEmbedder(OFFLINE_MODEL, runtime="onnx-int8",
                                               export_dir=tmp_path)
    assert embedder.runtime == "onnx" and embedder.name == OFFLINE_MODEL
    assert "runs unquantized" in caplog.text and "unsupported operator" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial file left behind
    assert np.array_equal(embedder.encode_queries(TEXTS[:1]),
                          onnx_embedder.encode_queries(TEXTS[:1]))


def test_the_first_feed_forward_output_stays_exact_and_the_rest_is_quantized(
        int8_embedder: SentenceTransformerEmbedder) -> None:
    import onnx

    graph = onnx.load(str(int8_embedder._onnx.path)).graph
    exact = [node.name for node in graph.node if node.op_type == "MatMul"]
    assert [name for name in exact if "/output/dense/" in name and "attention" not in name] \
        == ["/model/model.0/encoder/layer.0/output/dense/MatMul"]
    # Six weight products a layer (query, key, value, attention output, feed-forward in and out)
    # in the bundled model's six layers, but that one.
    assert sum(node.op_type == "MatMulInteger" for node in graph.node) == 6 * 6 - 1
