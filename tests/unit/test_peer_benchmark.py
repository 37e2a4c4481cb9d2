"""The peer benchmark's latency summary: each engine over its own model's time, in one run."""

from __future__ import annotations

import pytest

from benchmarks.peer import latency_of


def test_each_engine_is_divided_by_the_model_in_its_own_runtime() -> None:
    times = {"ours": [20.0, 30.0, 40.0], "txtai": [90.0, 100.0, 110.0],
             "encode_onnx": [10.0, 15.0, 20.0], "encode_torch": [40.0, 50.0, 60.0]}
    summary = latency_of(times)
    assert summary["questions"] == 3
    assert summary["ours"]["p50_over_own_model"] == pytest.approx(30 / 15)
    assert summary["txtai"]["p50_over_own_model"] == pytest.approx(100 / 50)
    assert summary["txtai"]["p50_over_onnx_model"] == pytest.approx(100 / 15, abs=1e-3)
    assert summary["txtai_p50_over_ours"] == pytest.approx(100 / 30, abs=1e-3)
    assert summary["ours"]["p99_ms"] == 40.0
