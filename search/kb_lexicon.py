"""A lexicon learned from the knowledge base itself: translated articles are a parallel corpus.

The same slug in `en/` and `sv/` (or `ru/`) is one article in two languages, usually with the same
headings in the same order. Paired sections (or whole articles when the structure differs) and
titles are the aligned segments; a Swedish or Russian word translates to the English words that
appear in the same segments unusually often (the Dice coefficient of their segment sets). This
needs no outside data and learns the help center's own vocabulary (`promokod` -> "promo code").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

from search.document import Document
from search.lexicon import Lexicon
from search.morphology import lemma_candidates
from search.text import stopwords, words

TARGET = "en"
MIN_DICE = 0.3
MIN_SHARED_SEGMENTS = 2
MAX_SENSES = 3


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _aligned(source: str, english: str) -> list[tuple[str, str]]:
    """Line by line when both have as many lines (translated steps and paragraphs), else whole."""
    source_lines, english_lines = _lines(source), _lines(english)
    if len(source_lines) == len(english_lines) and len(source_lines) > 1:
        return list(zip(source_lines, english_lines))
    return [(source, english)]


def _segments(source: Document, english: Document) -> list[tuple[str, str]]:
    """The smallest pieces of a translated pair that can be matched up: title, then lines of the
    whole text, else of each section when the sections match, else the whole text."""
    pairs = [(source.title, english.title)]
    if len(_lines(source.text)) == len(_lines(english.text)):
        return pairs + _aligned(source.text, english.text)
    if len(source.chunks) == len(english.chunks) and len(source.chunks) > 1:
        for s, e in zip(source.chunks, english.chunks):
            pairs.append((s.heading, e.heading))
            pairs += _aligned(s.text, e.text)
        return pairs
    return pairs + [(source.text, english.text)]


def source_lemma(word: str, lang: str) -> str:
    """The form a learned pair is stored under: what the translator looks up first."""
    return lemma_candidates(word, lang)[0][0]


def _content_words(text: str, lang: str) -> set[str]:
    stop = stopwords(lang)
    return {w for w in words(text) if w not in stop and not w.isdigit() and len(w) > 1}


def learn_lexicon(documents: Sequence[Document], languages: Iterable[str] | None = None) -> Lexicon:
    """sv->en and ru->en pairs from articles that exist in English and another language."""
    english = {d.slug: d for d in documents if d.lang == TARGET}
    wanted = set(languages) if languages is not None else None
    lexicon = Lexicon()
    by_lang: dict[str, list[tuple[set[str], set[str]]]] = {}
    for doc in documents:
        if doc.lang == TARGET or doc.slug not in english or (wanted and doc.lang not in wanted):
            continue
        for source_text, english_text in _segments(doc, english[doc.slug]):
            source_words = {source_lemma(w, doc.lang) for w in _content_words(source_text, doc.lang)}
            by_lang.setdefault(doc.lang, []).append((source_words, _content_words(english_text, TARGET)))
    for lang, segments in by_lang.items():
        lexicon.add(lang, _dice_pairs(segments))
    return lexicon


def _dice_pairs(segments: list[tuple[set[str], set[str]]]) -> list[tuple[str, str, float]]:
    source_vocab = {w: i for i, w in enumerate(sorted({w for s, _ in segments for w in s}))}
    english_vocab = {w: i for i, w in enumerate(sorted({w for _, e in segments for w in e}))}
    if not source_vocab or not english_vocab:
        return []

    def incidence(column: int, vocab: dict[str, int]) -> sparse.csr_matrix:
        rows, cols = [], []
        for row, pair in enumerate(segments):
            for word in pair[column]:
                rows.append(row)
                cols.append(vocab[word])
        return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                 shape=(len(segments), len(vocab)))

    source, target = incidence(0, source_vocab), incidence(1, english_vocab)
    shared = (source.T @ target).tocoo()
    source_df = np.asarray(source.sum(axis=0)).ravel()
    target_df = np.asarray(target.sum(axis=0)).ravel()
    source_words = np.array(sorted(source_vocab, key=source_vocab.get))
    english_words = np.array(sorted(english_vocab, key=english_vocab.get))
    keep = shared.data >= MIN_SHARED_SEGMENTS
    rows, cols, counts = shared.row[keep], shared.col[keep], shared.data[keep]
    dice = 2 * counts / (source_df[rows] + target_df[cols])
    best: dict[int, list[tuple[float, int]]] = {}
    for row, col, value in zip(rows, cols, dice):
        if value >= MIN_DICE:
            best.setdefault(int(row), []).append((float(value), int(col)))
    pairs = []
    for row, found in best.items():
        for value, col in sorted(found, reverse=True)[:MAX_SENSES]:
            pairs.append((str(source_words[row]), str(english_words[col]), value))
    return pairs
