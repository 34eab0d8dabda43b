import logging
from pathlib import Path

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
