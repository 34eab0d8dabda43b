"""The answer gate's data files: fitting never needs the old weights; common words."""

from pathlib import Path

import pytest

from corpus import load_corpus
from retrieval.evaluation import calibrate
from retrieval.search.gate import Gate
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
