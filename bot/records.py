"""Questions, answers and feedback in SQLite: what /stats and `linli stats` report.

Telegram-free: the standard library and bot.staff.schema's plain SQL only, never
`telegram` or a channel. The tables of other concerns (the staff loop's) live in the
same database: `MIGRATIONS` adds them to an older database, and `Records.run` gives
their modules the connection under the lock.
"""

import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bot.staff.schema import STAFF_TABLES

logger = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 2
# The SQL that takes a database of format N - 1 to format N (CREATE IF NOT EXISTS: idempotent).
MIGRATIONS = {2: STAFF_TABLES}
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
-- Replies owed: written before a reply is sent, deleted once Telegram took it (so the
-- raw chat id lives only while the reply is owed). A start sends the recent ones.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    owed_at REAL NOT NULL,
    chat_id INTEGER NOT NULL,
    reply_to INTEGER,
    text TEXT NOT NULL,
    markup TEXT
);
"""


@dataclass(frozen=True)
class Owed:
    """A reply recorded as owed and not yet known to be delivered."""

    id: int
    owed_at: float
    chat_id: int
    reply_to: int | None
    text: str
    markup: str | None


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


class RecordsError(Exception):
    """The records database cannot be opened or is not linli's; the message says which."""


def database_problem(path: Path) -> str | None:
    """Say why the database at `path` cannot be used, without changing it; None if it can."""
    if str(path) == ":memory:" or not path.exists():
        return None
    if path.stat().st_size == 0:
        return "is empty (0 bytes): its records are gone"
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return _schema_problem(db)
        finally:
            db.close()
    except sqlite3.Error as err:
        return f"cannot be read as an SQLite database ({err})"


def _schema_problem(db: sqlite3.Connection) -> str | None:
    check = db.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        return f"is damaged ({check})"
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "meta" not in tables:
        return f"is not linli's records database (its tables: {', '.join(sorted(tables))})"
    row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    # An older format is brought up to date on opening (MIGRATIONS); a newer one is not ours.
    if row is None or not row[0].isdigit() or not 1 <= int(row[0]) <= SCHEMA_VERSION:
        return (f"has records format {row[0] if row else 'none'}, "
                f"but this linli reads formats 1 to {SCHEMA_VERSION}")
    return None


def move_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) with the time, never overwriting; return it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.broken-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.broken-{stamp}-{number}")
    path.rename(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.rename(aside.with_name(aside.name + suffix))
    return aside


def moved_aside_files(path: Path) -> list[Path]:
    """The databases set aside earlier beside `path`, oldest first."""
    return sorted(p for p in path.parent.glob(f"{path.name}.broken-*")
                  if not p.name.endswith(("-wal", "-shm")))


def user_key(secret: str) -> bytes:
    """Derive the key of the user-id hash from a secret setting (never stored in the database)."""
    return hmac.new(secret.encode("utf-8"), b"linli user ids", hashlib.sha256).digest()


class Records:
    """A thread-safe handle on the records database (WAL: a crash never corrupts it).

    User ids are stored as an HMAC under `key`, which lives outside the database:
    without the key, a copy of the database does not give the ids back.
    """

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        problem = database_problem(path)
        if problem is not None:
            raise RecordsError(f"{path}: the records database {problem}; `linli run` moves it "
                               "aside and starts a new one")
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._key = key or secrets.token_bytes(32)
        # Set by `open_records` when a broken database was renamed: (its new path, why).
        self.moved_aside: tuple[Path, str] | None = None
        self._lock = threading.Lock()
        self.failed_writes = 0  # bookkeeping writes that failed (a full disk): never fatal
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.executescript(_SCHEMA)
            # A new database starts at format 1, whose tables _SCHEMA made; then migrates.
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', '1')")
            self._migrate()
            self._drop_old_salt()

    def _migrate(self) -> None:
        """Bring an older database up to SCHEMA_VERSION, one format at a time."""
        version = int(self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0])
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.executescript(MIGRATIONS[target])
            self._db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(target),))

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the database under the lock (for the tables other modules own)."""
        with self._lock:
            return work(self._db)

    def _drop_old_salt(self) -> None:
        """Erase the salt older databases kept beside their hashes (it made them reversible)."""
        if self._db.execute("SELECT 1 FROM meta WHERE key='salt'").fetchone() is None:
            return
        # secure_delete zeroes the freed bytes; the checkpoint gets them into the main file.
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("DELETE FROM meta WHERE key='salt'")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def user_hash(self, user_id: int) -> str:
        """Return a keyed hash (HMAC) of a Telegram user id: records never hold the raw id."""
        return hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]

    def record_question(self, user_id: int, chat_type: str, question: str, answered: bool,
                        article_id: str | None, chunk_id: str | None,
                        latency_ms: float) -> int | None:
        """Store one question and return its id (the buttons refer to it); None if it failed.

        Bookkeeping never stops an answer: a failed write (a full disk) is logged and
        counted in `failed_writes`, and the resident still gets the reply.
        """
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO questions (asked_at, user_hash, chat_type, question, answered,"
                    " article_id, chunk_id, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (time.time(), self.user_hash(user_id), chat_type, question, int(answered),
                     article_id, chunk_id, latency_ms))
                return int(cursor.lastrowid or 0)
        except (sqlite3.Error, OSError) as err:
            self.write_failed("question", err)
            return None

    def write_failed(self, what: str, err: Exception) -> None:
        """Count a failed bookkeeping write; log the first and every hundredth after it."""
        self.failed_writes += 1
        # A full disk fails every write: one line per failure would flood the log.
        if self.failed_writes == 1 or self.failed_writes % 100 == 0:
            logger.error("%s: a %s could not be recorded (%s: %s); the reply is sent all the "
                         "same; %d record%s lost so far; free space on the data disk",
                         self.path, what, type(err).__name__, err, self.failed_writes,
                         "" if self.failed_writes == 1 else "s")

    def question(self, question_id: int) -> str | None:
        """Return the text of a recorded question."""
        with self._lock:
            row = self._db.execute("SELECT question FROM questions WHERE id=?",
                                   (question_id,)).fetchone()
        return None if row is None else str(row[0])

    def record_feedback(self, question_id: int, user_id: int, value: int) -> bool | None:
        """Store 👍 (1) or 👎 (-1) from the asker; a second press replaces the first.

        Return False, storing nothing, if the question does not exist, is someone else's, or
        was an honest no (no passage shown: nothing to rate; no channel offers 👍/👎 there);
        None if the write failed (counted and logged as `record_question` does).
        """
        user = self.user_hash(user_id)
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT OR REPLACE INTO feedback SELECT ?, ?, ?, ? WHERE EXISTS"
                    " (SELECT 1 FROM questions WHERE id = ? AND user_hash = ?"
                    " AND article_id IS NOT NULL)",
                    (question_id, user, value, time.time(), question_id, user))
                return cursor.rowcount == 1
        except (sqlite3.Error, OSError) as err:
            self.write_failed("vote", err)
            return None

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

    def owe(self, chat_id: int, reply_to: int | None, text: str,
            markup: str | None) -> int | None:
        """Record a reply as owed before it is sent; its id, or None if the write failed."""
        try:
            with self._lock:
                cursor = self._db.execute(
                    "INSERT INTO outbox (owed_at, chat_id, reply_to, text, markup)"
                    " VALUES (?, ?, ?, ?, ?)", (time.time(), chat_id, reply_to, text, markup))
                return int(cursor.lastrowid or 0)
        except (sqlite3.Error, OSError) as err:
            self.write_failed("reply owed", err)
            return None

    def delivered(self, owed_id: int) -> None:
        """Forget an owed reply: Telegram has it."""
        try:
            with self._lock:
                self._db.execute("DELETE FROM outbox WHERE id = ?", (owed_id,))
        except (sqlite3.Error, OSError) as err:
            self.write_failed("delivery", err)

    def owed(self, within: float, now: float | None = None) -> list[Owed]:
        """The replies still owed from the last `within` seconds, oldest first; older ones go.

        Older replies are dropped, not sent: an answer an hour late to a resident who has
        moved on is noise.
        """
        since = (time.time() if now is None else now) - within
        try:
            with self._lock:
                self._db.execute("DELETE FROM outbox WHERE owed_at < ?", (since,))
                rows = self._db.execute(
                    "SELECT id, owed_at, chat_id, reply_to, text, markup FROM outbox"
                    " ORDER BY id").fetchall()
        except (sqlite3.Error, OSError) as err:
            self.write_failed("owed replies' check", err)
            return []
        return [Owed(*row) for row in rows]

    def backup(self, target: Path) -> None:
        """Copy the database consistently while the bot keeps writing (SQLite's backup API)."""
        with self._lock:
            destination = sqlite3.connect(target)
            try:
                self._db.backup(destination)
            finally:
                destination.close()


def open_records(path: Path, key: bytes) -> Records:
    """Open the bot's records; a database that cannot be used is moved aside, never lost."""
    problem = database_problem(path)
    if problem is None:
        return Records(path, key)
    aside = move_aside(path)
    logger.error("records database %s %s; renamed it to %s (kept for inspection) and "
                 "started a new one", path, problem, aside.name)
    records = Records(path, key)
    records.moved_aside = (aside, problem)
    return records
