"""The staff loop from the terminal: `linli chat` (records in the bot's database file),
`linli pending [--json]`, and the records format 2 migration."""

import io
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.records import SCHEMA_VERSION, Records, database_problem

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE questions (id INTEGER PRIMARY KEY, asked_at REAL NOT NULL, user_hash TEXT NOT NULL,
    chat_type TEXT NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL, article_id TEXT,
    chunk_id TEXT, latency_ms REAL NOT NULL);
CREATE TABLE feedback (question_id INTEGER NOT NULL, user_hash TEXT NOT NULL,
    value INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (question_id, user_hash));
INSERT INTO meta VALUES ('schema', '1');
INSERT INTO questions VALUES (1, 1.0, 'ab', 'private', '旧的问题', 0, NULL, NULL, 1.0);
"""


def chat(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         lines: list[str]) -> str:
    """Run `linli chat` on these input lines; return what it printed."""
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["chat"]) == 0
    return capsys.readouterr().out


def test_the_loop_in_linli_chat_is_seen_by_linli_pending(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        corpus_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("LINLI_CORPUS_DIR", str(corpus_dir))
    out = chat(monkeypatch, capsys, ["社区食堂几点开门？", "4", "停车场收费吗？"])
    assert f"（提问记录在 {tmp_path / 'data' / 'linli.sqlite3'}）" in out
    assert "[4] 🔔 有答复时通知我" in out and "只保存您的聊天编号" in out
    assert main(["pending", "--json"]) == 0
    queue = json.loads(capsys.readouterr().out)
    assert [g["question"] for g in queue] == ["停车场收费吗？", "社区食堂几点开门？"]
    assert all("user" not in key for g in queue for key in g)
    answer_text = "社区食堂每天11:00至13:00供应午餐。\\n周末休息。"  # \n: a new paragraph
    out = chat(monkeypatch, capsys, ["/pending", "3", answer_text, "1", "食堂什么时候开门"])
    assert "👀 预览：居民提问后将看到下面的回答" in out
    assert "（发给聊天 0 的通知）\n🔔 您之前问过“社区食堂几点开门？”，现在有了答复：" in out
    answer = out.split("> 食堂什么时候开门")[1]
    assert "社区食堂每天11:00至13:00供应午餐。" in answer and "📝《社区食堂几点开门？》" in answer
    assert main(["pending"]) == 0
    listed = capsys.readouterr().out
    assert "1. 停车场收费吗？（1 次" in listed and "社区食堂" not in listed


def test_pending_without_records_says_where_it_looked(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["pending"]) == 1
    assert "linli.sqlite3: no records yet" in capsys.readouterr().err


def test_a_format_1_database_gains_the_staff_tables_and_keeps_its_questions(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
    assert database_problem(path) is None
    records = Records(path)
    try:
        assert records.question(1) == "旧的问题"
        version = records.run(lambda db: db.execute(
            "SELECT value FROM meta WHERE key='schema'").fetchone()[0])
        assert version == str(SCHEMA_VERSION) == "2"
        pairings = records.run(lambda db: db.execute("SELECT count(*) FROM pairings").fetchone())
        assert pairings[0] == 0
    finally:
        records.close()


def test_a_newer_records_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA.replace("('schema', '1')", "('schema', '3')"))
    assert database_problem(path) == ("has records format 3, but this linli reads formats 1 to 2")
