"""One question's model inputs read straight from the tokenizer's Rust core.

sentence-transformers prepares a text through transformers' Python tokenizer call: argument
handling, padding a batch of one, PyTorch tensors made and then turned into the arrays ONNX
Runtime reads. For one short question that is about 0.25 ms, where the Rust core (the
`tokenizers` library, which that call wraps) takes about 0.035 ms for the same ids.

The shortcut is taken only where it is exact: when a model loads, `direct_tokenizer` compares
its ids with the model's own preprocessing on sample texts that exercise what preprocessing can
do (a prompt, case and accents, other scripts, spaces, truncation at the model's sequence
length). A model whose preprocessing does anything else keeps the model's own path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# What the comparison reads: cased and accented Latin, Cyrillic, mixed scripts, digits and
# punctuation, emoji and symbols, leading and trailing white space, control characters, and a
# text far past any sequence length (where truncation must cut at the same token).
SAMPLE_TEXTS = (
    "I forgot my password",
    "Jag har GLÖMT mitt lösenord, vad gör jag?",
    "не могу зайти в аккаунт Ёлка",
    "yt vjue pfqnb",
    "  spaces   around\tand\nbetween  ",
    "café naïve Ångström ß İstanbul",
    "order #12345 costs $9.99 (EUR 8,50) -- why?!",
    "emoji 😡🙏 and symbols ™ © ½ → ∞",
    "mixed Google Диск and Spotify-konto",
    "中文 日本語 한국어 العربية",
    "zero\u200bwidth and soft\u00adhyphen and control\x07bell",
    " ".join(["refunds, invoices and card payments"] * 200),
)


class DirectTokenizer:
    """The model's inputs for one text, as its own preprocessing gives them for that text alone."""

    def __init__(self, core: Any, inputs: Sequence[str], prompt: str):
        self._core = core
        self._inputs = tuple(inputs)
        self._prompt = prompt

    def features(self, text: str) -> dict[str, np.ndarray]:
        encoding = self._core.encode(self._prompt + text)
        columns = {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask,
                   "token_type_ids": encoding.type_ids}
        return {name: np.array([columns[name]], dtype=np.int64) for name in self._inputs}


def direct_tokenizer(model: Any, inputs: Sequence[str], prompt: str | None
                     ) -> DirectTokenizer | None:
    """A DirectTokenizer for a loaded sentence-transformers `model` whose preprocessing it
    matches exactly on `SAMPLE_TEXTS` (with `prompt` prepended as preprocessing does), else None."""
    backend = getattr(getattr(model, "tokenizer", None), "backend_tokenizer", None)
    if backend is None or any(name not in ("input_ids", "attention_mask", "token_type_ids")
                              for name in inputs):
        return None
    try:
        from tokenizers import Tokenizer

        # A copy: the model's own tokenizer keeps the padding and truncation it is called with.
        core = Tokenizer.from_str(backend.to_str())
        core.no_padding()
        core.enable_truncation(max_length=int(model.max_seq_length))
        direct = DirectTokenizer(core, inputs, prompt or "")
        for text in SAMPLE_TEXTS:
            expected = model.preprocess([text], prompt=prompt)
            got = direct.features(text)
            if any(not np.array_equal(np.asarray(expected[name]), got[name]) for name in inputs):
                log.info("questions are prepared by the model's own preprocessing: the "
                         "tokenizer's core gives other ids for %r", text[:40])
                return None
    except Exception as exc:  # a tokenizer this cannot copy or call keeps the model's own path
        log.info("questions are prepared by the model's own preprocessing (%s: %s)",
                 type(exc).__name__, exc)
        return None
    return direct
