"""The answer gate: its threshold, its data files (refits never need old weights), common words."""

import json
import math
from pathlib import Path

import pytest

import retrieval
from corpus import load_corpus
from retrieval.evaluation import calibrate
from retrieval.index import build_index
from retrieval.search import Features, Gate, Outcome, Searcher
from retrieval.text.commonness import write_common_words
from tests.conftest import BUNDLED_CORPUS


def test_features_are_collected_without_reading_the_shipped_gate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # After a change to the features the shipped gate.json no longer loads: refitting
    # must still work.
    def stale(*_: object) -> Gate:
        raise AssertionError("the shipped gate was read")

    monkeypatch.setattr(Gate, "load", stale)
    articles = load_corpus(BUNDLED_CORPUS).articles
    half = {articles[0].id, articles[1].id}
    queries = [{"question": "人大代表联络站在哪里", "gold_id": articles[2].id},
               {"question": "老年人活动区在哪里", "gold_id": articles[1].id}]
    samples = calibrate.collect(articles, queries, half)
    absent, present = samples
    assert not absent.present and not absent.right
    assert present.present and present.right and present.features is not None


def test_common_words_are_written_most_common_first_and_bad_lines_are_named(
        tmp_path: Path) -> None:
    source, out = tmp_path / "idf.txt", tmp_path / "common.txt"
    source.write_text("理发 10.1\n的 0.9\n开始 3.8\n", encoding="utf-8")
    assert write_common_words(source, out, kept=9.0) == 2
    assert [line for line in out.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")] == ["的 0.900", "开始 3.800"]
    source.write_text("理发 10.1\n坏行\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"idf.txt:2: expected 'word idf', got '坏行'"):
        write_common_words(source, out)


def _gate_scoring(features: Features, confidence: float, gate: Gate) -> Gate:
    """Return `gate` with its bias moved so that `features` score exactly `confidence`."""
    z = gate.bias + sum(w * x for w, x in zip(gate.weights, features.vector(), strict=True))
    wanted = math.log(confidence / (1.0 - confidence))
    return Gate(gate.weights, gate.bias + wanted - z, gate.threshold)


def test_a_confidence_just_above_the_threshold_answers_and_just_below_does_not() -> None:
    searcher = Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles))
    question = "哪里可以下棋"
    found = searcher.answer(question)
    assert found.answered and found.features is not None
    threshold = searcher.gate.threshold
    for offset, outcome in ((0.01, Outcome.ANSWERED), (-0.01, Outcome.CLOSEST)):
        gate = _gate_scoring(found.features, threshold + offset, searcher.gate)
        again = Searcher(searcher.index, gate=gate).answer(question)
        assert again.confidence == pytest.approx(threshold + offset)
        assert again.outcome is outcome
        assert again.hits[0].title == "学党史润初心 办实事解民忧"
        assert len(again.hits) == (1 if outcome is Outcome.CLOSEST else len(found.hits))


def test_the_shipped_threshold_is_the_one_its_calibration_chose() -> None:
    # A hand edit of the threshold (not refitted by `linli calibrate`) is caught here.
    shipped = json.loads((Path(retrieval.__file__).parent / "data" / "gate.json").read_text(
        encoding="utf-8"))
    assert Gate.load().threshold == shipped["report"]["threshold"]
    sweep = shipped["report"]["sweep"]
    lowest_within_target = min(float(t) for t, rates in sweep.items()
                               if rates["absent_answered"] <= shipped["report"]["target_absent"])
    assert lowest_within_target - 0.1 < Gate.load().threshold <= lowest_within_target
