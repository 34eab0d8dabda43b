"""Subscriptions to 有答复时通知我: the one place a resident's chat id is kept.

A chat id is stored only for a resident who pressed the button, with the question's
searched words; it is deleted when the resident is notified (`claim`) or when it is
older than LINLI_NOTIFY_DAYS (`purge_expired`), whichever comes first. Imports bot.records.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

from bot.records import Records

logger = logging.getLogger(__name__)

DEFAULT_NOTIFY_DAYS = 30


@dataclass(frozen=True)
class Subscription:
    """A resident waiting for an answer: where to send it and what they asked."""

    chat_id: int
    question: str


def subscribe(records: Records, words: str, chat_id: int, question: str,
              now: float | None = None) -> None:
    """Keep the chat id until the group is answered (a second press renews it)."""
    at = time.time() if now is None else now
    records.run(lambda db: db.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?)",
                                      (words, chat_id, question, at)))


def claim(records: Records, words: str) -> list[Subscription]:
    """Take (and delete) the subscriptions of a group that was just answered: notify once."""
    def take(db: Any) -> list[Subscription]:
        rows = db.execute("SELECT chat_id, question FROM subscriptions WHERE words=?",
                          (words,)).fetchall()
        db.execute("DELETE FROM subscriptions WHERE words=?", (words,))
        return [Subscription(int(r[0]), str(r[1])) for r in rows]

    return records.run(take)


def purge_expired(records: Records, days: int, now: float | None = None) -> int:
    """Delete the chat ids kept longer than `days`; return how many."""
    cutoff = (time.time() if now is None else now) - days * 86400
    cursor = records.run(lambda db: db.execute("DELETE FROM subscriptions WHERE at < ?",
                                               (cutoff,)))
    if cursor.rowcount:
        logger.info("deleted %d notification chat ids after %d days", cursor.rowcount, days)
    return int(cursor.rowcount)


def waiting(records: Records) -> dict[str, int]:
    """How many residents wait for each group (counts only, never who)."""
    rows = records.run(lambda db: db.execute(
        "SELECT words, count(*) FROM subscriptions GROUP BY words").fetchall())
    return {str(r[0]): int(r[1]) for r in rows}
