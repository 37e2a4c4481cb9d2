"""The scale benchmark: recall of approximate nearest neighbours against exact ones, and which
vector index each of a size's two builds gets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.scale import APPROXIMATE, DEFAULT_HNSW_THRESHOLD, EXACT, recall_at_k, settings_for


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


@pytest.fixture
def no_kb_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_kb_environment")
def test_below_the_threshold_the_default_is_exact_and_hnsw_is_built_beside_it(
        tmp_path: Path) -> None:
    exact, hnsw = settings_for(tmp_path, 1000, EXACT), settings_for(tmp_path, 1000, APPROXIMATE)
    assert exact["HNSW_THRESHOLD"] == DEFAULT_HNSW_THRESHOLD
    assert hnsw["HNSW_THRESHOLD"] == 1000  # the chunks reach it, the fewer articles do not
    assert exact["INDEX_DIR"] != hnsw["INDEX_DIR"]
    assert exact["CACHE_DIR"] == hnsw["CACHE_DIR"]  # the same vectors in both


@pytest.mark.usefixtures("no_kb_environment")
def test_from_the_threshold_on_the_default_is_hnsw_and_exact_is_built_beside_it(
        tmp_path: Path) -> None:
    size = DEFAULT_HNSW_THRESHOLD
    assert settings_for(tmp_path, size, APPROXIMATE)["HNSW_THRESHOLD"] == DEFAULT_HNSW_THRESHOLD
    assert settings_for(tmp_path, size, EXACT)["HNSW_THRESHOLD"] > 1000 * size
    assert settings_for(tmp_path, size, APPROXIMATE)["INDEX_DIR"].endswith("index")
