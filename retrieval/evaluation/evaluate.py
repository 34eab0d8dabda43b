"""Measure retrieval on a set of questions: Hit@1, Hit@3, MRR and no-answer accuracy.

May import pydantic and `retrieval.search`.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from retrieval.search import Answer, Hit, Searcher
from retrieval.search.followup import Resolved

SWEEP = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)


class EvalQuestion(BaseModel):
    """A line of an evaluation file."""

    q: str
    answer_any: list[str] = []
    title_any: list[str] = []
    # The bold sentence must hold one of these (a 在哪 question wants the place named).
    sentence_any: list[str] = []
    no_answer: bool = False
    # A follow-up: the question asked just before, whose topic `q` continues (那几点开门？).
    context: str | None = None
    # A pair whose `q` names a topic of its own (社区食堂在哪 after 老年人活动区在哪里？):
    # right only when `q` is read as a question of its own, without the context's heading.
    own_topic: bool = False


@dataclass
class EvalReport:
    """The figures, and the questions that missed."""

    answerable: int = 0
    hit1: int = 0
    hit3: int = 0
    reciprocal_ranks: float = 0.0
    unanswerable: int = 0
    correct_no_answer: int = 0
    shown1: int = 0  # the right passage first, answered or shown as the closest match
    threshold: float = 0.0
    misses: list[dict[str, object]] = field(default_factory=list)
    # Per question: (confidence, past the gate's floors, has an answer, first passage right).
    outcomes: list[tuple[float, bool, bool, bool]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Return the rates."""
        n = max(self.answerable, 1)
        return {"questions": self.answerable + self.unanswerable,
                "hit@1": self.hit1 / n, "hit@3": self.hit3 / n, "mrr": self.reciprocal_ranks / n,
                "shown@1": self.shown1 / n,
                "no_answer_accuracy": self.correct_no_answer / max(self.unanswerable, 1)}

    def at_threshold(self, threshold: float) -> dict[str, float]:
        """Answered-right and wrongly-answered shares had the gate used `threshold`."""
        answered = [(c >= threshold and floors, has, right)
                    for c, floors, has, right in self.outcomes]
        right = sum(a and r for a, has, r in answered if has)
        wrong = sum(a and not r for a, has, r in answered if has)
        absent = sum(a for a, has, _ in answered if not has)
        n = max(self.answerable, 1)
        return {"threshold": threshold, "answered_right": right / n, "answered_wrong": wrong / n,
                "no_answer_answered": absent / max(self.unanswerable, 1)}

    def sweep(self) -> list[dict[str, float]]:
        """The trade-off at several thresholds and at the current one."""
        return [self.at_threshold(t) for t in sorted({*SWEEP, self.threshold})]


def read_questions(path: Path) -> list[EvalQuestion]:
    """Read an evaluation file; raise ValueError naming the bad line."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = EvalQuestion.model_validate_json(line)
        except ValidationError as err:
            raise ValueError(f"{path}:{number}: not an evaluation line ({err.errors()[0]['msg']});"
                             ' write {"q": ..., "answer_any": [...], "title_any": [...]}'
                             ' or {"q": ..., "no_answer": true}') from None
        if not question.no_answer and not (question.answer_any and question.title_any):
            raise ValueError(f"{path}:{number}: needs answer_any and title_any, or no_answer")
        questions.append(question)
    return questions


def _correct(question: EvalQuestion, hit: Hit) -> bool:
    return (any(a in hit.shown_text for a in question.answer_any)
            and any(t in hit.title for t in question.title_any)
            and (not question.sentence_any
                 or any(s in hit.best_sentence for s in question.sentence_any)))


def evaluate(searcher: Searcher, questions: list[EvalQuestion], k: int = 3) -> EvalReport:
    """Search every question and score the answers."""
    report = EvalReport(threshold=searcher.gate.threshold)
    for question in questions:
        if question.context is not None:
            continue  # a follow-up pair: see evaluate_followups
        found = searcher.answer(question.q, k=k)
        hits = found.hits if found.answered else []
        floors = found.features is not None and searcher.gate.answers(found.features, 0.0)
        first_right = bool(found.hits) and not question.no_answer and _correct(
            question, found.hits[0])
        report.outcomes.append((found.confidence, floors, not question.no_answer, first_right))
        if question.no_answer:
            report.unanswerable += 1
            if hits:
                report.misses.append({"q": question.q, "expected": "no answer",
                                      "got": hits[0].text[:60]})
            else:
                report.correct_no_answer += 1
            continue
        report.answerable += 1
        report.shown1 += first_right
        rank = next((h.rank for h in hits if _correct(question, h)), None)
        if rank == 1:
            report.hit1 += 1
        if rank is not None:
            report.hit3 += 1
            report.reciprocal_ranks += 1 / rank
        if rank != 1:
            report.misses.append({"q": question.q, "expected": question.answer_any,
                                  "got": _got(found)})
    return report


def _got(found: Answer) -> str:
    if not found.hits:
        return "no answer"
    prefix = "" if found.answered else "closest match: "
    return prefix + found.hits[0].shown_text[:60]


# How a follow-up is read: (searcher, follow-up, previous question) -> answer and topic.
Resolver = Callable[[Searcher, str, str], Resolved]


@dataclass
class FollowupReport:
    """Follow-up pairs: how many get the right citation (or an honest no), alone and in context."""

    pairs: int = 0
    alone: int = 0  # right when the follow-up is asked on its own, without its context
    resolved: int = 0  # right with the follow-up rule
    misses: list[dict[str, object]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Return the counts and the resolved shares."""
        n = max(self.pairs, 1)
        return {"pairs": self.pairs, "resolved": self.resolved / n, "alone": self.alone / n}


def _right(question: EvalQuestion, found: Answer, topic: str | None = None) -> bool:
    """An honest no for a pair without an answer, else the right passage first, answered.

    `topic`: the context's topic the reply is headed with (None: read as its own question).
    """
    if question.own_topic and topic is not None:
        return False
    if question.no_answer:
        return not found.answered
    return found.answered and _correct(question, found.hits[0])


def evaluate_followups(searcher: Searcher, questions: list[EvalQuestion],
                       resolve: Resolver | None = None, k: int = 3) -> FollowupReport:
    """Answer every follow-up pair alone and with `resolve` (the previous question as context)."""
    report = FollowupReport()
    for question in questions:
        if question.context is None:
            continue
        report.pairs += 1
        alone = searcher.answer(question.q, k=k)
        read = resolve(searcher, question.q, question.context) if resolve else Resolved(alone)
        report.alone += _right(question, alone)
        if _right(question, read.answer, read.heading):
            report.resolved += 1
        else:
            heading = f'关于"{read.heading}"：' if read.heading else ""
            report.misses.append({"context": question.context, "q": question.q,
                                  "expected": "no answer" if question.no_answer
                                  else question.answer_any, "got": heading + _got(read.answer)})
    return report


def format_followups(report: FollowupReport) -> str:
    """Render the follow-up figures and misses for a terminal."""
    n = max(report.pairs, 1)
    lines = [f"follow-up pairs: {report.pairs}",
             f"resolved with the right citation (or an honest no): {report.resolved}/{report.pairs}"
             f" ({report.resolved / n:.1%}); asked alone, without context: "
             f"{report.alone}/{report.pairs} ({report.alone / n:.1%})"]
    lines += [f"follow-up miss: {json.dumps(m, ensure_ascii=False)}" for m in report.misses]
    return "\n".join(lines)


def format_report(report: EvalReport) -> str:
    """Render the figures and misses for a terminal."""
    f = report.figures()
    lines = [f"questions: {f['questions']} ({report.answerable} answerable, "
             f"{report.unanswerable} without an answer)",
             f"Hit@1: {f['hit@1']:.1%}  Hit@3: {f['hit@3']:.1%}  MRR: {f['mrr']:.3f}  "
             f"no-answer accuracy: {f['no_answer_accuracy']:.1%}",
             f"right passage first, answered or as the closest match: {f['shown@1']:.1%}",
             "answer threshold   answered right   answered wrong   no-answer questions answered"]
    for row in report.sweep():
        mark = "  (current)" if row["threshold"] == report.threshold else ""
        lines.append(f"  {row['threshold']:14.2f}   {row['answered_right']:14.1%}   "
                     f"{row['answered_wrong']:14.1%}   {row['no_answer_answered']:11.1%}{mark}")
    lines += [f"miss: {json.dumps(m, ensure_ascii=False)}" for m in report.misses]
    return "\n".join(lines)
