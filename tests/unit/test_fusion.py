from __future__ import annotations

import numpy as np
import pytest

from search.fusion import (Weights, best_first, feedback_weights, fuse, languages_in,
                           normalize_scores, weights_for)

TABLE = {"en": Weights(4, 1, 0), "sv": Weights(0, 1, 2), "cross": Weights(1, 0, 0),
         "default": Weights(1, 1, 1)}


def test_normalize_scores_maps_to_unit_range() -> None:
    assert normalize_scores(np.array([1.0, 2.0, 5.0])).tolist() == [0.0, 0.25, 1.0]
    assert np.array_equal(normalize_scores(np.array([5.0, 5.0])), np.zeros(2))


def test_weights_depend_on_language_pair() -> None:
    assert weights_for("en", "en", TABLE) == Weights(4, 1, 0)
    assert weights_for("sv", "en", TABLE) == Weights(1, 0, 0)
    assert weights_for("ru", "ru", TABLE) == Weights(1, 1, 1)


def test_fuse_uses_the_query_language_weights() -> None:
    dense = np.array([0.9, 0.1, 0.5])
    bm25 = np.array([0.0, 5.0, 1.0])
    chars = np.array([0.0, 0.2, 0.9])
    langs = np.array(["en", "en", "en"])
    # English trusts the dense signal most; Swedish leans on keywords and character n-grams.
    assert int(np.argmax(fuse(dense, bm25, chars, langs, "en", TABLE))) == 0
    langs_sv = np.array(["sv", "sv", "sv"])
    assert int(np.argmax(fuse(dense, bm25, chars, langs_sv, "sv", TABLE))) in (1, 2)
    assert int(np.argmax(fuse(dense, bm25, chars, langs_sv, "sv", TABLE))) != 0


def test_candidates_compared_in_english_are_weighed_on_one_scale() -> None:
    # A Swedish article compared through its English version and an English-only article, with
    # the same evidence: by language they are weighed differently, compared in English alike.
    table = {**TABLE, "translated_sv": Weights(1, 1, 0), "in_english_sv": Weights(3, 1, 1)}
    dense, bm25, chars = np.array([0.8, 0.8, 0.1]), np.array([2.0, 2.0, 0.0]), np.zeros(3)
    langs = np.array(["sv", "en", "sv"])
    by_language = fuse(dense, bm25, chars, langs, "sv", table, translated=True)
    assert by_language[0] != by_language[1]
    one_scale = fuse(dense, bm25, chars, langs, "sv", table, translated=True,
                     in_english=np.array([True, True, True]))
    assert one_scale[0] == one_scale[1] == 4.0 and one_scale[2] == 0.0
    # A candidate compared as typed keeps its language's weights.
    mixed = fuse(dense, bm25, chars, langs, "sv", table, translated=True,
                 in_english=np.array([False, True, True]))
    assert mixed[0] == by_language[0] and mixed[1] == 4.0
    # A question in a language without one-scale weights is weighed by language throughout.
    table_without = {k: v for k, v in table.items() if k != "in_english_sv"}
    assert fuse(dense, bm25, chars, langs, "sv", table_without, translated=True,
                in_english=np.ones(3, bool)).tolist() == by_language.tolist()


def test_feedback_follows_the_scale_a_candidate_is_weighed_on() -> None:
    table = {**TABLE, "sv": Weights(0, 1, 2, feedback=1.0), "in_english_sv": Weights(3, 1, 1)}
    langs = np.array(["sv", "en", "sv"])
    assert feedback_weights(langs, "sv", table).tolist() == [1.0, 0.0, 1.0]
    # Compared in English, the Swedish article takes the one scale's feedback weight (none).
    assert feedback_weights(langs, "sv", table, np.array([True, True, False])).tolist() \
        == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("k", [0, 1, 3, 5, 49, 50, 80])
def test_best_first_is_the_start_of_a_stable_sort(k: int) -> None:
    rng = np.random.default_rng(k)
    # Few distinct values, so ties straddle the k-th place, where a plain partition would
    # pick among them arbitrarily.
    scores = rng.integers(0, 6, size=50).astype(np.float64)
    expected = np.argsort(-scores, kind="stable")[:k]
    assert best_first(scores, k).tolist() == expected.tolist()


def test_languages_in_finds_every_language_grouped_or_not() -> None:
    grouped = np.array(["en"] * 4 + ["ru"] * 3 + ["sv"] * 2)
    mixed = np.array(["sv", "en", "sv", "ru", "en"])
    assert languages_in(grouped) == languages_in(mixed) == ["en", "ru", "sv"]
    assert languages_in(np.array(["sv"])) == ["sv"] and languages_in(np.array([], dtype="<U2")) == []
