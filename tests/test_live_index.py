import logging
from pathlib import Path

import numpy as np
import pytest

from bot.live_index import LiveIndex
from tests.helpers.articles import write_article


def test_the_service_logs_each_corpus_problem_once_at_its_level(
        corpus_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_article(corpus_dir, "bad.md", date="2021-02-30")
    (corpus_dir / "notes.docx").write_bytes(b"PK")
    live = LiveIndex(corpus_dir, tmp_path / "data")
    with caplog.at_level(logging.INFO):
        live.load()
        live.reload_now()
    problems = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert all(m.startswith("corpus: ") for _, m in problems if "bad.md" in m)
    assert [level for level, message in problems if "2021-02-30" in message] == ["ERROR"] * 2
    assert [level for level, message in problems if "notes.docx" in message] == ["WARNING"] * 2


def test_a_reload_serves_the_edited_article_then_saves_it_for_the_next_start(
        corpus_dir: Path, tmp_path: Path) -> None:
    live = LiveIndex(corpus_dir, tmp_path / "data")
    live.load()
    target = next(corpus_dir.glob("*讲好党课*"))
    target.write_text(target.read_text(encoding="utf-8") + "\n社区新开了一家象棋俱乐部。\n",
                      encoding="utf-8")
    outcome = live.reload_now()
    assert outcome.report is not None and outcome.report.spliced
    assert outcome.report.changed == [target.stem]
    assert live.current().search("象棋俱乐部")[0].article_id == target.stem
    live.wait_saved()
    assert not live.reloading
    # Once saved, the index in service is the saved one, mapped from its files.
    assert all(_mapped(s.postings.doc_ids)  # served from the saved files
               for s in live.current().index.segments)
    assert live.current().search("象棋俱乐部")[0].article_id == target.stem
    restarted = LiveIndex(corpus_dir, tmp_path / "data")
    report = restarted.load()
    assert not report.rebuilt
    assert restarted.current().search("象棋俱乐部")[0].article_id == target.stem


def test_a_second_reload_waits_for_the_first_ones_save(corpus_dir: Path, tmp_path: Path) -> None:
    live = LiveIndex(corpus_dir, tmp_path / "data")
    live.load()
    for text in ("社区新开了一家象棋俱乐部。", "社区新开了一家围棋俱乐部。"):
        write_article(corpus_dir, "new.md", title="俱乐部", body=text)
        outcome = live.reload_now()
        assert outcome.error is None and outcome.report is not None
    live.wait_saved()
    assert live.current().search("围棋俱乐部")[0].article_id == "new"
    assert not LiveIndex(corpus_dir, tmp_path / "data").load().rebuilt


def _mapped(array: object) -> bool:
    """True if the array's memory is a mapped file (np.memmap somewhere down its bases)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = getattr(array, "base", None)
    return False
