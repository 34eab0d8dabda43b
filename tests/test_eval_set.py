"""The quality bar: a drop below it on the resident questions fails the build."""

from pathlib import Path

from corpus import load_corpus
from retrieval.evaluation.evaluate import evaluate, read_questions
from retrieval.index import build_index
from retrieval.search import Searcher
from tests.conftest import BUNDLED_CORPUS

QUESTIONS = Path(__file__).parent / "data" / "eval_questions.jsonl"


def test_resident_questions_meet_the_quality_targets() -> None:
    questions = read_questions(QUESTIONS)
    assert len([q for q in questions if not q.no_answer]) >= 50
    report = evaluate(Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles)), questions)
    figures = report.figures()
    # Measured 97.9% answered right, 99.0% right passage first (answered or closest match).
    assert figures["hit@1"] >= 0.97, report.misses
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
    from retrieval.evaluation.evaluate import evaluate_followups
    from retrieval.search.followup import resolve_pair

    pairs = read_questions(FOLLOWUPS)
    searcher = Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles))
    report = evaluate_followups(searcher, pairs, resolve_pair)
    # Measured 23/24 (95.8%) with the rule, 17/24 (70.8%) when each is asked alone.
    assert report.resolved / report.pairs >= 0.95, report.misses
    assert report.resolved > report.alone


HELD_OUT = Path(__file__).parent / "data" / "eval_questions_heldout.jsonl"


def test_held_out_questions_written_blind_stay_above_their_measured_floor() -> None:
    # 45 questions written from the articles without seeing the tuned set or the lexicons
    # (df823b5), committed before the changes they measure: 66.7% Hit@1, 93.3% no-answer
    # then; measured 80.0% / 100% after. 39 more written blind on 2026-12-04 (from the four
    # articles and the file's format only), before the work on real questions: the 84
    # together measured 72.9% Hit@1, 100% no-answer on main 25b97de.
    questions = read_questions(HELD_OUT)
    report = evaluate(Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles)), questions)
    figures = report.figures()
    assert figures["hit@1"] >= 0.72, report.misses
    assert figures["no_answer_accuracy"] == 1.0, report.misses


NOTICES = Path(__file__).parent / "data" / "eval_notices.jsonl"


def test_kind_of_answer_questions_on_the_fixture_notices() -> None:
    # Two fixture notices (tests/data/notices/). Measured 33.3% Hit@1 / 50% no-answer
    # before the kind checks read the passage shown; 83.3% / 100% after (打疫苗要钱吗:
    # jieba cuts 打 / 疫苗, and the lexicon's 打疫苗 is not found).
    report = evaluate(Searcher(build_index(load_corpus(NOTICES.parent / "notices").articles)),
                      read_questions(NOTICES))
    assert report.figures()["hit@1"] >= 0.8, report.misses
    assert report.figures()["no_answer_accuracy"] == 1.0, report.misses
