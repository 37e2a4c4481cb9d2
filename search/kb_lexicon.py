"""A lexicon learned from the knowledge base itself: translated articles are a parallel corpus.

The same slug in `en/` and `sv/` (or `ru/`) is one article in two languages, usually with the same
headings in the same order. Paired sections (or whole articles when the structure differs) and
titles are the aligned segments; a Swedish or Russian word translates to the English words that
appear in the same segments unusually often (the Dice coefficient of their segment sets), unless
another word of those segments is the closer match for that English word (`_linked_partners`).
This needs no outside data and learns the help center's own vocabulary (`promokod` -> "promo
code").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

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
# Competitive linking (`_linked_partners`): how many English words one source word may be linked
# to in a segment, and the weakest association that is linked at all.
LINKS_PER_SOURCE_WORD = 2
MIN_LINK_DICE = 0.1
# A segment with more word pairs than this (two whole articles that could not be aligned line by
# line or section by section) is not linked, and its pairs are never read one by one: it still
# counts towards Dice, and its words keep the partners they were linked to in other segments.
# Linking it would sort all its pairs (a tenth of a second for two 4,000-word articles); the
# aligned lines and sections of the six development help centers have at most about 4,200.
MAX_LINKED_PAIRS = 10_000


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


@lru_cache(maxsize=100_000)  # the same words recur in every article
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
        lexicon.add(lang, _learned_pairs(segments))
    return lexicon


def _learned_pairs(segments: list[tuple[set[str], set[str]]]) -> list[tuple[str, str, float]]:
    """(source word, English word, Dice) for each source word's MAX_SENSES most associated English
    words (Dice of at least MIN_DICE over at least MIN_SHARED_SEGMENTS segments), less those
    that are not among the source word's partners where competitive linking found any
    (`_linked_partners`)."""
    source_vocab = {w: i for i, w in enumerate(sorted({w for s, _ in segments for w in s}))}
    english_vocab = {w: i for i, w in enumerate(sorted({w for _, e in segments for w in e}))}
    if not source_vocab or not english_vocab:
        return []

    # Each segment as the ids of its words, read once.
    ids = [({source_vocab[w] for w in s}, {english_vocab[w] for w in e}) for s, e in segments]

    def incidence(column: int, size: int) -> sparse.csr_matrix:
        rows = [row for row, pair in enumerate(ids) for _ in pair[column]]
        cols = [word for pair in ids for word in pair[column]]
        return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                 shape=(len(ids), size))

    source, target = incidence(0, len(source_vocab)), incidence(1, len(english_vocab))
    source_df = np.asarray(source.sum(axis=0)).ravel()
    target_df = np.asarray(target.sum(axis=0)).ravel()
    shared = (source.T @ target).tocoo()
    values = 2 * shared.data / (source_df[shared.row] + target_df[shared.col])
    # Only the pairs that meet in a segment small enough to link are read one by one in Python.
    small = [row for row, (s, e) in enumerate(ids) if len(s) * len(e) <= MAX_LINKED_PAIRS]
    met = source[small].T @ target[small]
    dice = sparse.csr_matrix((values, (shared.row, shared.col)), shape=shared.shape)
    linkable = dice.multiply(met > 0).tocoo()
    strong = linkable.data >= MIN_LINK_DICE
    associated: dict[int, dict[int, float]] = {}
    for row, col, value in zip(linkable.row[strong].tolist(), linkable.col[strong].tolist(),
                               linkable.data[strong].tolist()):
        associated.setdefault(row, {})[col] = value
    partners = _linked_partners([ids[row] for row in small], associated, source_df)
    kept = (shared.data >= MIN_SHARED_SEGMENTS) & (values >= MIN_DICE)
    best: dict[int, list[tuple[float, int]]] = {}
    for row, col, value in zip(shared.row[kept].tolist(), shared.col[kept].tolist(),
                               values[kept].tolist()):
        best.setdefault(row, []).append((value, col))
    source_words = np.array(sorted(source_vocab, key=source_vocab.get))
    english_words = np.array(sorted(english_vocab, key=english_vocab.get))
    # The three most associated first, then those linking gave to other words are dropped: a
    # word whose linked translation is not among its three keeps no pair, and dictionaries or
    # its other forms read it (dropping first, so a fourth could take a place, was measured
    # and lost a question or two: docs/quality.md).
    return [(str(source_words[row]), str(english_words[col]), value)
            for row, found in best.items()
            for value, col in sorted(found, reverse=True)[:MAX_SENSES]
            if row not in partners or col in partners[row]]


def _linked_partners(segments: list[tuple[set[int], set[int]]],
                     associated: dict[int, dict[int, float]], source_df: np.ndarray
                     ) -> dict[int, set[int]]:
    """The English words each source word is the translation of, by competitive linking
    (Melamed, "Models of translational equivalence", 2000).

    Co-occurrence alone pairs a word with every word its segments share: in a small help center
    «konto» shares its few lines with "whether" and "customers" as often as with "account",
    and Dice cannot tell them apart. So in each segment pair the most strongly associated words
    are linked first, and an English word once linked is taken: "account" goes to «konto», and
    "whether" is left to the word it translates. A source word may take LINKS_PER_SOURCE_WORD
    English words (a compound or a Russian word often stands for two: «presentkort» -> "gift
    card"). `associated` holds each source word's English words with a Dice coefficient of at
    least MIN_LINK_DICE. A source word's partners are the words it was linked to in at least
    MIN_SHARED_SEGMENTS segments and in at least MIN_DICE of its own."""
    links: Counter[tuple[int, int]] = Counter()
    for source_ids, english_ids in segments:
        ranked = sorted((value, s, e) for s in source_ids if (found := associated.get(s))
                        for e in english_ids if (value := found.get(e)) is not None)
        taken_by: Counter[int] = Counter()
        taken: set[int] = set()
        for value, s, e in reversed(ranked):
            if taken_by[s] >= LINKS_PER_SOURCE_WORD or e in taken:
                continue
            taken_by[s] += 1
            taken.add(e)
            links[(s, e)] += 1
            if len(taken) == len(english_ids):
                break  # every English word is linked
    partners: dict[int, set[int]] = {}
    for (s, e), count in links.items():
        if count >= MIN_SHARED_SEGMENTS and count / source_df[s] >= MIN_DICE:
            partners.setdefault(s, set()).add(e)
    return partners
