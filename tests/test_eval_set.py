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
    # Measured 94.8% answered right, 97.9% right passage first (answered or closest match).
    assert figures["hit@1"] >= 0.94, report.misses
    assert figures["shown@1"] >= 0.97, report.misses
    assert figures["no_answer_accuracy"] == 1.0, report.misses


FOLLOWUPS = Path(__file__).parent / "data" / "eval_followups.jsonl"


def test_followup_pairs_are_real_pairs_whose_answers_the_corpus_holds() -> None:
    pairs = read_questions(FOLLOWUPS)
    assert all(p.context for p in pairs)
    assert len([p for p in pairs if not p.no_answer]) >= 15
    text = "".join(p.read_text(encoding="utf-8") for p in BUNDLED_CORPUS.glob("*.md"))
    assert [a for p in pairs for a in p.answer_any if a not in text] == []


def test_follow_ups_are_resolved_in_context_at_least_80_percent() -> None:
    from retrieval.evaluate import evaluate_followups
    from retrieval.followup import resolve_answer

    pairs = read_questions(FOLLOWUPS)
    searcher = Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles))
    report = evaluate_followups(searcher, pairs, resolve_answer)
    # Measured 20/24 (83.3%) with the rule, 15/24 (62.5%) when each is asked alone.
    assert report.resolved / report.pairs >= 0.80, report.misses
    assert report.resolved > report.alone
