"""The scale benchmark's recall of approximate nearest neighbours against exact ones."""

from __future__ import annotations

import pytest

from benchmarks.scale import recall_at_k


def test_recall_is_one_when_the_same_neighbours_come_back_in_any_order() -> None:
    assert recall_at_k([[1, 2, 3], [4, 5, 6]], [[3, 2, 1], [6, 4, 5]], k=3) == 1.0


def test_recall_is_the_mean_share_of_the_exact_top_k_found() -> None:
    # the first query finds 2 of 4, the second 1 of 4
    assert recall_at_k([[1, 2, 3, 4], [5, 6, 7, 8]], [[1, 2, 9, 10], [8, 11, 12, 13]],
                       k=4) == pytest.approx((0.5 + 0.25) / 2)


def test_only_the_first_k_of_each_list_count() -> None:
    assert recall_at_k([[1, 2, 3]], [[9, 1, 2]], k=2) == 0.5


def test_a_query_with_fewer_stored_vectors_than_k_is_judged_on_what_exists() -> None:
    assert recall_at_k([[1, 2]], [[2, 1]], k=10) == 1.0


def test_lists_for_different_numbers_of_queries_are_refused() -> None:
    with pytest.raises(ValueError):
        recall_at_k([[1]], [[1], [2]])
