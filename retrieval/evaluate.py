"""Measure retrieval on a set of questions: Hit@1, Hit@3, MRR and no-answer accuracy."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from retrieval.search import Hit, Searcher


class EvalQuestion(BaseModel):
    """A line of an evaluation file."""

    q: str
    answer_any: list[str] = []
    title_any: list[str] = []
    # The bold sentence must hold one of these (a 在哪 question wants the place named).
    sentence_any: list[str] = []
    no_answer: bool = False


@dataclass
class EvalReport:
    """The figures, and the questions that missed."""

    answerable: int = 0
    hit1: int = 0
    hit3: int = 0
    reciprocal_ranks: float = 0.0
    unanswerable: int = 0
    correct_no_answer: int = 0
    misses: list[dict[str, object]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """Return the rates."""
        n = max(self.answerable, 1)
        return {"questions": self.answerable + self.unanswerable,
                "hit@1": self.hit1 / n, "hit@3": self.hit3 / n, "mrr": self.reciprocal_ranks / n,
                "no_answer_accuracy": self.correct_no_answer / max(self.unanswerable, 1)}


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
    return (any(a in hit.text for a in question.answer_any)
            and any(t in hit.title for t in question.title_any)
            and (not question.sentence_any
                 or any(s in hit.best_sentence for s in question.sentence_any)))


def evaluate(searcher: Searcher, questions: list[EvalQuestion], k: int = 3) -> EvalReport:
    """Search every question and score the answers."""
    report = EvalReport()
    for question in questions:
        hits = searcher.search(question.q, k=k)
        if question.no_answer:
            report.unanswerable += 1
            if hits:
                report.misses.append({"q": question.q, "expected": "no answer",
                                      "got": hits[0].text[:60]})
            else:
                report.correct_no_answer += 1
            continue
        report.answerable += 1
        rank = next((h.rank for h in hits if _correct(question, h)), None)
        if rank == 1:
            report.hit1 += 1
        if rank is not None:
            report.hit3 += 1
            report.reciprocal_ranks += 1 / rank
        if rank != 1:
            report.misses.append({"q": question.q, "expected": question.answer_any,
                                  "got": hits[0].text[:60] if hits else "no answer"})
    return report


def format_report(report: EvalReport) -> str:
    """Render the figures and misses for a terminal."""
    f = report.figures()
    lines = [f"questions: {f['questions']} ({report.answerable} answerable, "
             f"{report.unanswerable} without an answer)",
             f"Hit@1: {f['hit@1']:.1%}  Hit@3: {f['hit@3']:.1%}  MRR: {f['mrr']:.3f}  "
             f"no-answer accuracy: {f['no_answer_accuracy']:.1%}"]
    lines += [f"miss: {json.dumps(m, ensure_ascii=False)}" for m in report.misses]
    return "\n".join(lines)
