"""What the benchmarks share to time things and summarise the times."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The value at the q-th percentile (0-100), nearest rank, no interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timed_ms(call: Callable[[], Any]) -> tuple[float, Any]:
    """How long `call` took, in milliseconds, and what it returned."""
    started = time.perf_counter()
    value = call()
    return (time.perf_counter() - started) * 1000, value
