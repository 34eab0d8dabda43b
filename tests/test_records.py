import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bot.records import Records


def test_user_ids_are_stored_as_keyed_hashes(tmp_path: Path) -> None:
    records = Records(tmp_path / "r.sqlite3")
    records.record_question(123456789, "private", "下棋", True, "a", "a#0", 1.0)
    records.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("r.sqlite3*"))
    assert b"123456789" not in raw and "下棋".encode() in raw
    again = Records(tmp_path / "r.sqlite3")
    assert again.user_hash(123456789) == again.user_hash(123456789) != again.user_hash(1)
    assert len(again.user_hash(1)) == 16


def test_stats_count_today_answered_feedback_and_top_unanswered(tmp_path: Path) -> None:
    records = Records(tmp_path / "r.sqlite3")
    first = records.record_question(1, "private", "下棋", True, "a", "a#0", 1.0)
    records.record_question(2, "private", "社保卡", False, None, None, 1.0)
    records.record_question(3, "group", "社保卡", False, None, None, 1.0)
    records.record_feedback(first, 1, 1)
    records.record_feedback(first, 1, -1)  # the same user changes their mind
    stats = records.stats(7)
    assert (stats.questions_today, stats.questions, stats.answered) == (3, 3, 1)
    assert (stats.thumbs_up, stats.thumbs_down) == (0, 1)
    assert stats.unanswered_top == [("社保卡", 2)]
    assert [n for _, n, _ in stats.per_day] == [3]


WRITER = """
import sys
from pathlib import Path
from bot.records import Records
records = Records(Path(sys.argv[1]))
print("ready", flush=True)
i = 0
while True:
    records.record_question(i, "private", f"问题{i}", i % 2 == 0, None, None, 1.0)
    i += 1
"""


def test_the_database_survives_a_crash_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                          stdout=subprocess.PIPE) as writer:
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"ready"
        time.sleep(0.5)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        written = db.execute("SELECT count(*) FROM questions").fetchone()[0]
    assert written > 0
    records = Records(path)  # reopens and keeps going
    records.record_question(0, "private", "重启后", True, None, None, 1.0)
    assert records.stats(1).questions == written + 1
