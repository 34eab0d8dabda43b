"""Fit the answer gate on CMRC 2018 split in halves: `linli calibrate`.

Half of the contexts (chosen with a fixed seed) form the corpus; questions about
them should be answered with their own context, questions about the other half
must not be answered at all. Then the halves swap. A logistic regression over the
gate's features is fitted on both settings, and the threshold is the lowest one at
which at most `target` of the absent questions are answered. Each half is also
scored with weights fitted on the other alone, so the figures are not in-sample only.

A district starts with a few articles: the fit also sees corpora of `SMALL_GROUP`
contexts (their own questions present, as many others absent), so the gate learns
how the corpus's size shifts its features; the threshold is chosen on the halves.
May import corpus, numpy, the CMRC reader, `retrieval.index` and `retrieval.search`.
"""

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from corpus.models import Article
from retrieval.evaluation.cmrc import read_cmrc
from retrieval.index import build_index
from retrieval.search import Features, Gate, Searcher
from retrieval.search.selftest import SelfTest, self_test

logger = logging.getLogger(__name__)

SEED = 2018
TARGET_ABSENT = 0.05  # the documented bar: at most 5% of absent questions answered
L2 = 1e-3
SMALL_GROUP = 4
SMALL_CORPORA = 150
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Features are collected whatever gate ships (it may be stale after a change to them).
_COLLECTING = Gate(tuple(0.0 for _ in Features.names()), 0.0, 0.5)


@dataclass
class Sample:
    """One question against one half: its features, and whether answering it would be right."""

    features: Features | None
    present: bool
    right: bool


def split_halves(articles: Sequence[Article], seed: int = SEED) -> tuple[set[str], set[str]]:
    """Split the contexts' ids in two halves, the same for a given seed."""
    ids = sorted(a.id for a in articles)
    random.Random(seed).shuffle(ids)
    return set(ids[: len(ids) // 2]), set(ids[len(ids) // 2 :])


def collect(articles: list[Article], queries: list[dict[str, str]],
            half: set[str]) -> list[Sample]:
    """Search every question against the articles of `half`; record features and truth."""
    searcher = Searcher(build_index([a for a in articles if a.id in half]), gate=_COLLECTING)
    samples = []
    for query in queries:
        answer = searcher.answer(query["question"], k=1)
        present = query["gold_id"] in half
        right = present and bool(answer.hits) and answer.hits[0].article_id == query["gold_id"]
        samples.append(Sample(answer.features, present, right))
    return samples


def collect_small(articles: list[Article], queries: list[dict[str, str]],
                  seed: int = SEED) -> list[Sample]:
    """Search small corpora of a few contexts each: their questions, and as many others."""
    rng = random.Random(seed)
    ids = sorted(a.id for a in articles)
    rng.shuffle(ids)
    by_gold: dict[str, list[dict[str, str]]] = {}
    for query in queries:
        by_gold.setdefault(query["gold_id"], []).append(query)
    samples: list[Sample] = []
    for start in range(0, min(len(ids), SMALL_GROUP * SMALL_CORPORA), SMALL_GROUP):
        group = set(ids[start : start + SMALL_GROUP])
        present = [q for i in sorted(group) for q in by_gold.get(i, [])]
        absent = rng.sample([q for q in queries if q["gold_id"] not in group], len(present))
        samples += collect(articles, present + absent, group)
    return samples


def fit_logistic(x: NDArray[np.float64], y: NDArray[np.float64],
                 l2: float = L2) -> NDArray[np.float64]:
    """Fit weights (bias last) by Newton's method with a small L2 penalty."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(design @ w, -50, 50)))
        gradient = design.T @ (p - y) + l2 * len(y) * np.r_[w[:-1], 0.0]
        hessian = (design.T * (p * (1 - p))) @ design + l2 * len(y) * np.diag(
            np.r_[np.ones(len(w) - 1), 0.0])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _matrix(samples: list[Sample]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    usable = [s for s in samples if s.features is not None]
    x = np.array([s.features.vector() for s in usable if s.features is not None])
    return x, np.array([float(s.right) for s in usable])


def rates(gate: Gate, samples: list[Sample], threshold: float) -> dict[str, float]:
    """Answered-right among present questions, answered among absent ones, at `threshold`."""
    answered = [s.features is not None and gate.answers(s.features, threshold)
                for s in samples]
    present = [a for a, s in zip(answered, samples, strict=True) if s.present]
    right = [a and s.right for a, s in zip(answered, samples, strict=True) if s.present]
    absent = [a for a, s in zip(answered, samples, strict=True) if not s.present]
    return {"present_right": sum(right) / max(len(present), 1),
            "present_wrong": (sum(present) - sum(right)) / max(len(present), 1),
            "absent_answered": sum(absent) / max(len(absent), 1)}


def choose_threshold(gate: Gate, samples: list[Sample], target: float) -> float:
    """Return the lowest threshold (in steps of 0.01) answering at most `target` of absent ones."""
    for step in range(1, 100):
        threshold = step / 100
        if rates(gate, samples, threshold)["absent_answered"] <= target:
            return threshold
    return 0.99


def _gate(weights: NDArray[np.float64], threshold: float = 0.5) -> Gate:
    return Gate(tuple(float(w) for w in weights[:-1]), float(weights[-1]), threshold)


def calibrate(data: Path, target: float = TARGET_ABSENT, seed: int = SEED,
              ) -> tuple[Gate, dict[str, object]]:
    """Fit the gate on both halves; report in-sample and cross-fitted figures."""
    articles, queries = read_cmrc(data)
    halves = split_halves(articles, seed)
    samples = [collect(articles, queries, half) for half in halves]
    small = collect_small(articles, queries, seed)
    gate = _gate(fit_logistic(*_matrix(samples[0] + samples[1] + small)))
    gate = gate.with_threshold(choose_threshold(gate, samples[0] + samples[1], target))
    report: dict[str, object] = {"seed": seed, "target_absent": target,
                                 "threshold": gate.threshold,
                                 "both_halves": rates(gate, samples[0] + samples[1],
                                                      gate.threshold)}
    for name, fit_on, test_on in (("half_a_fitted_on_b", 1, 0), ("half_b_fitted_on_a", 0, 1)):
        other = _gate(fit_logistic(*_matrix(samples[fit_on] + small)))
        other = other.with_threshold(choose_threshold(other, samples[fit_on], target))
        report[name] = rates(other, samples[test_on], other.threshold)
    report["small_corpora"] = rates(gate, small, gate.threshold)
    # The corpus self-test's yardstick: how often the fitted gate answers the halves' own
    # probes with their paragraph removed, at the threshold that answers `target` of the
    # real absent questions. A corpus whose absent probes are answered more often is one
    # where the gate is laxer than here: it raises its threshold (retrieval/search/selftest.py).
    tests = [self_test(Searcher(build_index([a for a in articles if a.id in half]), gate=gate),
                       gate) for half in halves]
    absent = [c for test in tests for c in test.absent]
    present = [c for test in tests for c in test.present]
    pooled = SelfTest(present, absent)
    gate = Gate(gate.weights, gate.bias, gate.threshold,
                round(pooled.absent_answered(gate, gate.threshold), 4))
    report["selftest"] = {"probes": len(absent),
                          "absent_answered": gate.selftest_target,
                          "present_right": round(pooled.present_right(gate.threshold), 4),
                          "per_half_absent_answered": [
                              round(t.absent_answered(gate, gate.threshold), 4) for t in tests]}
    report["sweep"] = {str(t): rates(gate, samples[0] + samples[1], t) for t in SWEEP}
    return gate, report


def _selftest_lines(report: dict[str, object]) -> list[str]:
    test = cast(dict[str, Any] | None, report.get("selftest"))
    if test is None:
        return []
    return [f"  self-test on the halves ({test['probes']} probes, each paragraph's own "
            f"sentence with the paragraph removed): absent answered "
            f"{test['absent_answered']:.1%} (the target a corpus's own self-test is held to); "
            f"with the paragraph in, answered right {test['present_right']:.1%}"]


def format_calibration(report: dict[str, object]) -> str:
    """Render the calibration figures for a terminal."""
    def row(label: str, r: Any) -> str:
        return (f"  {label:28} right {r['present_right']:6.1%}  wrong {r['present_wrong']:6.1%}"
                f"  absent answered {r['absent_answered']:6.1%}")

    lines = [f"CMRC 2018 split-half (seed {report['seed']}), threshold {report['threshold']}:",
             row("both halves (fitted on both)", report["both_halves"]),
             row("half A, fitted on half B", report["half_a_fitted_on_b"]),
             row("half B, fitted on half A", report["half_b_fitted_on_a"]),
             row(f"{SMALL_CORPORA} corpora of {SMALL_GROUP} contexts", report["small_corpora"]),
             *_selftest_lines(report),
             "  sweep (both halves):"]
    sweep = cast(dict[str, dict[str, float]], report["sweep"])
    lines += [row(f"threshold {t}", r) for t, r in sweep.items()]
    return "\n".join(lines)
