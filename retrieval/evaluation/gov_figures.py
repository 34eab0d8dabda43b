"""The figures of `linli eval --gov`: rates, the threshold's trade-off, a table and a chart.

Computed from each question's `Result` (see `retrieval.evaluation.gov`, which asks
them). May import matplotlib (inside `write_chart`) and nothing of linli.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

THRESHOLDS = tuple(round(0.30 + 0.05 * step, 2) for step in range(14))  # 0.30 .. 0.95


@dataclass(frozen=True)
class Result:
    """One question asked: what the ranking and the answer gave."""

    present: bool  # its article is in the set
    rank: int | None  # the gold article's place among the ranked articles (gate ignored)
    answered: bool  # answered at the gate's threshold (not a closest match, not nothing)
    shown_right: bool  # the passage shown first (answered or closest match) is the gold article's
    confidence: float
    floors: bool  # past the gate's floors: answered at any threshold up to its confidence
    first_right: bool  # the passage answered first, past the floors, is the gold article's
    span: bool | None  # the passage shown holds the answer span (None: no span given)


def _share(count: float, total: int) -> float | None:
    return count / total if total else None


def at_threshold(results: list[Result], threshold: float) -> dict[str, float | None]:
    """Answered right / wrong (of the present) and absent answered, had the gate used this."""
    present = sum(r.present for r in results)
    answered = [r for r in results if r.floors and r.confidence >= threshold]
    right = sum(r.present and r.first_right for r in answered)
    return {"threshold": threshold, "answered_right": _share(right, present),
            "answered_wrong": _share(sum(r.present for r in answered) - right, present),
            "absent_answered": _share(sum(not r.present for r in answered),
                                      len(results) - present)}


def figures(results: list[Result]) -> dict[str, float | None]:
    """The set's figures at the gate's own threshold."""
    present = [r for r in results if r.present]
    spans, n = [r for r in present if r.span is not None], len(present)
    return {"r@1": _share(sum(r.rank == 1 for r in present), n),
            "r@5": _share(sum(r.rank is not None and r.rank <= 5 for r in present), n),
            "mrr@10": _share(sum(1 / r.rank for r in present if r.rank), n),
            "shown_first_right": _share(sum(r.shown_right for r in present), n),
            "answered_right": _share(sum(r.answered and r.first_right for r in present), n),
            "answered_wrong": _share(sum(r.answered and not r.first_right for r in present), n),
            "absent_answered": _share(sum(r.answered for r in results if not r.present),
                                      len(results) - n),
            "span_shown": _share(sum(bool(r.span) for r in spans), len(spans)),
            "span_answered": _share(sum(bool(r.span) and r.answered for r in spans), len(spans))}


def curve(results: list[Result], threshold: float) -> list[dict[str, float | None]]:
    """The trade-off as the threshold moves (0.30 to 0.95, and the gate's own)."""
    return [at_threshold(results, t) for t in sorted({*THRESHOLDS, threshold})]


@dataclass
class SetReport:
    """One set measured: its sizes, timings, figures and trade-off curve."""

    name: str
    folder: str
    articles: int
    passages: int
    questions: int
    present: int
    absent: int
    spans: int  # present questions that give an answer span
    threshold: float
    index_built: bool
    index_seconds: float
    questions_seconds: float
    figures: dict[str, float | None]
    curve: list[dict[str, float | None]]


_LABELS = {"r@1": "right article first, gate ignored (R@1)", "mrr@10": "MRR@10",
           "r@5": "right article in the top 5 (R@5)",
           "shown_first_right": "passage shown first is the right article's (answered or closest)",
           "answered_right": "answered right (answered, the right article first)",
           "answered_wrong": "answered wrong (answered, another article first)",
           "absent_answered": "absent answered (of the questions without their article)",
           "span_shown": "answer span in the passage shown (answered or closest match)",
           "span_answered": "answered, with the answer span in the passage shown"}


def _rate(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"


def format_set(report: SetReport) -> str:
    """Render one set's report for a terminal."""
    lines = [f"{report.name} ({report.folder}): {report.articles} articles, "
             f"{report.passages} passages, {report.questions} questions "
             f"({report.present} with their article, {report.absent} without)",
             f"  index {'built' if report.index_built else 'loaded'} in "
             f"{report.index_seconds:.2f} s, questions asked in "
             f"{report.questions_seconds:.2f} s; answer threshold {report.threshold:.2f}"]
    lines += [f"  {_rate(value):>6}  {_LABELS[key]}" for key, value in report.figures.items()
              if value is not None or not key.startswith("span")]
    lines.append("  threshold  answered right  answered wrong  absent answered")
    for row in report.curve:
        mark = "  (the gate's)" if row["threshold"] == report.threshold else ""
        lines.append(f"  {row['threshold'] or 0:9.2f}  {_rate(row['answered_right']):>14}  "
                     f"{_rate(row['answered_wrong']):>14}  {_rate(row['absent_answered']):>15}"
                     f"{mark}")
    return "\n".join(lines)


def write_chart(reports: Iterable[SetReport], path: Path) -> None:
    """Draw answered right against absent answered as the threshold moves, one line a set."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    for report in reports:
        xs = [100 * (row["absent_answered"] or 0) for row in report.curve]
        ys = [100 * (row["answered_right"] or 0) for row in report.curve]
        line, = axes.plot(xs, ys, marker=".", label=report.name)
        for x, y, row in zip(xs, ys, report.curve, strict=True):
            if row["threshold"] in (0.3, 0.5, 0.8, 0.95, report.threshold):
                axes.annotate(f"{row['threshold']:.2f}", (x, y), textcoords="offset points",
                              xytext=(6, -14) if row["threshold"] == report.threshold else (4, 4))
        at = [row["threshold"] for row in report.curve].index(report.threshold)  # the gate's
        axes.plot([xs[at]], [ys[at]], "o", color=line.get_color(), markersize=9)
    axes.axvline(5, color="grey", linestyle="--", linewidth=1, label="5% absent answered")
    axes.set(xlabel="questions without their article that get an answer (%)",
             ylabel="questions answered with the right article (%)", ylim=(0, 100),
             xlim=(0, None), title="linli on the gov sets: the answer threshold's trade-off")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
