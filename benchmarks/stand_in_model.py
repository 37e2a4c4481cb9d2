"""A stand-in with the shape of the production model, for speed and memory benchmarks offline.

Run: .venv/bin/python benchmarks/stand_in_model.py OUT_DIR

The documented production model, intfloat/multilingual-e5-small, cannot be downloaded here. How
much memory a worker adds, or what share of a request the model takes, depends on the model's
size and shape, not on what its weights have learned. So this builds a sentence-transformers
folder with e5-small's architecture and sizes (XLM-RoBERTa: 12 layers, 384 dimensions, a
250,037-token vocabulary, about 118 million parameters, 450 MB) and random weights, around the
bundled model's tokenizer files. Its answers are meaningless: never use it to measure quality.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search.embedder import offline_model_path  # noqa: E402

# intfloat/multilingual-e5-small's config.json.
E5_SMALL = {"vocab_size": 250037, "hidden_size": 384, "num_hidden_layers": 12,
            "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 514}


def build_xlm_roberta(folder: Path, *, seed: int = 0, **sizes: int) -> Path:
    """A random XLM-RoBERTa sentence-transformers model (mean pooling, normalized) in `folder`.

    Like every XLM-RoBERTa model it takes no token_type_ids. The tokenizer is the bundled
    model's (30,522 tokens), so only that many rows of a larger vocabulary are ever read.
    """
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    bundled = offline_model_path()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled / "1_Pooling", folder / "1_Pooling", dirs_exist_ok=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "modules.json", "sentence_bert_config.json"):
        shutil.copy(bundled / name, folder / name)

    def edit(path: Path, **changes: object) -> None:
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))

    edit(folder / "tokenizer_config.json", model_input_names=["input_ids", "attention_mask"])
    edit(folder / "1_Pooling" / "config.json", word_embedding_dimension=sizes["hidden_size"])
    torch.manual_seed(seed)
    XLMRobertaModel(XLMRobertaConfig(type_vocab_size=1, pad_token_id=0, **sizes)
                    ).save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to write the model to")
    args = parser.parse_args()
    try:
        folder = build_xlm_roberta(args.out, **E5_SMALL)
    except OSError as exc:
        raise SystemExit(f"cannot write the model to {args.out}: {exc}") from None
    size = sum(f.stat().st_size for f in folder.rglob("*.safetensors")) / 2 ** 20
    print(f"wrote an e5-small-shaped stand-in ({size:.0f} MB of weights) to {folder}")


if __name__ == "__main__":
    main()
