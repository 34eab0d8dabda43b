"""Questions, answers and feedback in SQLite: what /stats and `linli stats` report."""

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked_at REAL NOT NULL,
    user_hash TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,
    article_id TEXT,
    chunk_id TEXT,
    latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions (id),
    user_hash TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    at REAL NOT NULL,
    PRIMARY KEY (question_id, user_hash)
);
"""


@dataclass
class Stats:
    """Figures over a period: the same for /stats and `linli stats`."""

    days: int
    questions_today: int = 0
    questions: int = 0
    answered: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    unanswered_top: list[tuple[str, int]] = field(default_factory=list)
    per_day: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def answered_share(self) -> float:
        """The share of questions that got an answer."""
        return self.answered / self.questions if self.questions else 0.0


class Records:
    """A thread-safe handle on the records database (WAL: a crash never corrupts it)."""

    def __init__(self, path: Path) -> None:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                             (str(SCHEMA_VERSION),))
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)",
                             (secrets.token_hex(16),))
            self._salt = self._db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def user_hash(self, user_id: int) -> str:
        """Return a salted hash of a Telegram user id: records never hold the raw id."""
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()[:16]

    def record_question(self, user_id: int, chat_type: str, question: str, answered: bool,
                        article_id: str | None, chunk_id: str | None, latency_ms: float) -> int:
        """Store one question and return its id (the buttons refer to it)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO questions (asked_at, user_hash, chat_type, question, answered,"
                " article_id, chunk_id, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), self.user_hash(user_id), chat_type, question, int(answered),
                 article_id, chunk_id, latency_ms))
            return int(cursor.lastrowid or 0)

    def question(self, question_id: int) -> str | None:
        """Return the text of a recorded question."""
        with self._lock:
            row = self._db.execute("SELECT question FROM questions WHERE id=?",
                                   (question_id,)).fetchone()
        return None if row is None else str(row[0])

    def record_feedback(self, question_id: int, user_id: int, value: int) -> None:
        """Store 👍 (1) or 👎 (-1); a second press by the same user replaces the first."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?)",
                (question_id, self.user_hash(user_id), value, time.time()))

    def stats(self, days: int = 7, now: float | None = None, top: int = 10) -> Stats:
        """Compute the figures of the last `days` days (local time)."""
        now = time.time() if now is None else now
        today = time.mktime((*time.localtime(now)[:3], 0, 0, 0, 0, 0, -1))
        since = today - (days - 1) * 86400
        result = Stats(days=days)
        with self._lock:
            db = self._db
            result.questions_today = db.execute(
                "SELECT count(*) FROM questions WHERE asked_at >= ?", (today,)).fetchone()[0]
            result.questions, result.answered = db.execute(
                "SELECT count(*), coalesce(sum(answered), 0) FROM questions WHERE asked_at >= ?",
                (since,)).fetchone()
            result.thumbs_up, result.thumbs_down = db.execute(
                "SELECT coalesce(sum(value = 1), 0), coalesce(sum(value = -1), 0) FROM feedback"
                " WHERE at >= ?", (since,)).fetchone()
            result.unanswered_top = [(str(r[0]), int(r[1])) for r in db.execute(
                "SELECT question, count(*) AS n FROM questions WHERE asked_at >= ? AND"
                " answered = 0 GROUP BY question ORDER BY n DESC, max(asked_at) DESC LIMIT ?",
                (since, top))]
            result.per_day = [(str(r[0]), int(r[1]), int(r[2])) for r in db.execute(
                "SELECT date(asked_at, 'unixepoch', 'localtime') AS day, count(*),"
                " coalesce(sum(answered), 0) FROM questions WHERE asked_at >= ?"
                " GROUP BY day ORDER BY day", (since,))]
        return result

    def backup(self, target: Path) -> None:
        """Copy the database consistently while the bot keeps writing (SQLite's backup API)."""
        with self._lock:
            destination = sqlite3.connect(target)
            try:
                self._db.backup(destination)
            finally:
                destination.close()
