"""Keyword scoring for one language."""

from __future__ import annotations

import numpy as np
import pytest

from search.keyword import KeywordIndex

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
    expected = keyword._chars.transform([query])
    assert columns.tolist() == expected.indices.tolist()
    assert np.array_equal(weights, expected.data)  # bit for bit: rankings cannot move


def test_chargram_scores_rank_the_misspelled_word_first() -> None:
    scores = KeywordIndex(TEXTS, "en").chargram("pasword resett")
    assert int(np.argmax(scores)) in (0, 1)
    assert 0.0 <= scores.min() and scores.max() <= 1.0 + 1e-6
    assert scores[2] < scores[0]
