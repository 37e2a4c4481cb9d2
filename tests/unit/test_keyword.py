"""Keyword scoring for one language."""

from __future__ import annotations

import numpy as np
import pytest

from search.keyword import KeywordIndex, char_vectorizer
from search.text import stem_tokens

TEXTS = ["Reset your password with the link we email you.",
         "Passwords must have twelve characters; reset it every year.",
         "Cancel your plan and ask for a refund within 14 days.",
         "Återställ lösenordet via länken i mejlet.", "Сбросьте пароль по ссылке из письма."]


@pytest.mark.parametrize("query", [
    "reset password", "pasword resett", "password password password", "refund 14 days",
    "ÅTERSTÄLL lösenord", "пароль ёжик", "x", "zzzz qqqq", "", "   ", "a-b_c 1234 !!",
])
def test_query_vector_is_what_the_vectorizer_computes(query: str) -> None:
    keyword = KeywordIndex(TEXTS, "en")
    columns, weights = keyword.chargram_vector(query)
    expected = char_vectorizer().fit(TEXTS).transform([query])
    assert columns.tolist() == expected.indices.tolist()
    assert np.array_equal(weights, expected.data)  # bit for bit: rankings cannot move


@pytest.mark.parametrize("query", ["reset password", "pasword resett", "ÅTERSTÄLL", "zzzz", "a"])
def test_chargram_scores_are_the_sparse_product_bit_for_bit(query: str) -> None:
    keyword = KeywordIndex(TEXTS, "en")
    columns, weights = keyword.chargram_vector(query)
    expected = np.zeros(len(TEXTS), dtype=np.float32) if columns.size == 0 else \
        np.asarray(keyword._char_matrix[:, columns] @ weights, dtype=np.float32).ravel()
    assert np.array_equal(keyword.chargram(query), expected)


def test_chargram_scores_rank_the_misspelled_word_first() -> None:
    scores = KeywordIndex(TEXTS, "en").chargram("pasword resett")
    assert int(np.argmax(scores)) in (0, 1)
    assert 0.0 <= scores.min() and scores.max() <= 1.0 + 1e-6
    assert scores[2] < scores[0]


@pytest.mark.parametrize("query", [
    "reset password", "reset reset password", "passwords reset every year", "refund 14 days",
    "nothing known here", "reset qqq password reset", "återställ lösenordet",
])
def test_bm25_scores_are_what_bm25s_computes_from_the_words(query: str) -> None:
    keyword = KeywordIndex(TEXTS, "en")
    scores = keyword.bm25(query)
    # bm25s's own path from words, which looks each one up in its dict (and skips unknown ones).
    expected = keyword._bm25.get_scores(stem_tokens(query, "en"))
    assert scores.dtype == np.float32 and np.array_equal(scores, np.asarray(expected, np.float32))


def test_known_share_counts_words_the_articles_use() -> None:
    keyword = KeywordIndex(TEXTS, "en")
    assert keyword.known_share("reset password") == 1.0
    assert keyword.known_share("reset qwxyz") == 0.5
    assert keyword.known_share("") == 0.0
    assert keyword.document_frequency("passwords") == 2
