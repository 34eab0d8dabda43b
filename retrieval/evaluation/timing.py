"""Time things the way every benchmark here reports them: medians of rounds, p50 and p95.

Holds the per-question timer, the machine's core count and a reference loop that tells
how fast the shared machine is at the time. Imports only the standard library.
"""

import os
import statistics
import time
from collections.abc import Callable


def percentiles(samples: list[float]) -> dict[str, float]:
    """Return the samples' median and 95th percentile, in milliseconds."""
    ordered = sorted(samples)
    return {"p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000}


def time_queries(run: Callable[[str], object], questions: list[str],
                  rounds: int = 3) -> dict[str, float]:
    """Time every question, `rounds` times over; report the median round's p50 and p95."""
    for question in questions[:20]:
        run(question)  # warm-up
    per_round = []
    for _ in range(rounds):
        samples = []
        for question in questions:
            started = time.perf_counter()
            run(question)
            samples.append(time.perf_counter() - started)
        per_round.append(percentiles(samples))
    return {key: statistics.median(r[key] for r in per_round) for key in per_round[0]}


def reference_loop_s(rounds: int = 5) -> float:
    """Time a fixed pure-Python loop: how fast this machine is right now.

    On a shared virtual machine it varies from minute to minute; quoting it beside the
    latencies tells a reader which runs can be compared.
    """
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        sum(range(10**7))
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def cpu_count() -> int:
    """Return how many cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
