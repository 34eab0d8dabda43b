"""The quality bar: a drop below it on the resident questions fails the build."""

from pathlib import Path

from corpus import load_corpus
from retrieval.evaluate import evaluate, read_questions
from retrieval.index import build_index
from retrieval.search import Searcher
from tests.conftest import BUNDLED_CORPUS

QUESTIONS = Path(__file__).parent / "data" / "eval_questions.jsonl"


def test_resident_questions_meet_the_quality_targets() -> None:
    questions = read_questions(QUESTIONS)
    assert len([q for q in questions if not q.no_answer]) >= 50
    report = evaluate(Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles)), questions)
    figures = report.figures()
    # Measured 90.6% answered right, 95.8% right passage first (answered or closest match).
    assert figures["hit@1"] >= 0.90, report.misses
    assert figures["shown@1"] >= 0.95, report.misses
    assert figures["no_answer_accuracy"] == 1.0, report.misses


FOLLOWUPS = Path(__file__).parent / "data" / "eval_followups.jsonl"


def test_followup_pairs_are_real_pairs_whose_answers_the_corpus_holds() -> None:
    pairs = read_questions(FOLLOWUPS)
    assert all(p.context for p in pairs)
    assert len([p for p in pairs if not p.no_answer]) >= 15
    text = "".join(p.read_text(encoding="utf-8") for p in BUNDLED_CORPUS.glob("*.md"))
    assert [a for p in pairs for a in p.answer_any if a not in text] == []
