"""The pending queue: questions the bot could not answer (or answered 👎), grouped.

Questions group by their searched words (`words_key`): the same question in other
words counts once. Most asked first, then newest. Only question texts and counts come
out of here: never a resident's id or name. Imports bot.records and retrieval only.
"""

import time
from dataclasses import asdict, dataclass
from typing import Any

from bot.records import Records
from retrieval.search import Searcher
from retrieval.text.tokenize import normalize_for_search

MAX_KEY_CHARS = 200


def words_key(searcher: Searcher, question: str) -> str:
    """The question's searched words, sorted and joined: the key that groups paraphrases."""
    words = sorted({word for word, _, _ in searcher.weighted_words(question)})
    return " ".join(words)[:MAX_KEY_CHARS] or normalize_for_search(question)[:MAX_KEY_CHARS]


def remember_words(records: Records, question_id: int, words: str) -> None:
    """Store the searched words of a recorded question (the queue groups by them)."""
    records.run(lambda db: db.execute("INSERT OR REPLACE INTO asked_words VALUES (?, ?)",
                                      (question_id, words)))


def words_of(records: Records, question_id: int) -> str | None:
    """The searched words of a recorded question, or None if it has none."""
    row = records.run(lambda db: db.execute(
        "SELECT words FROM asked_words WHERE question_id=?", (question_id,)).fetchone())
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class PendingGroup:
    """One question of the queue, however many ways it was asked."""

    words: str
    question: str  # the newest wording, as asked
    question_id: int  # the newest question of the group (the buttons name it)
    asked: int
    last_asked: float
    nothing: int  # honest no
    closest: int  # only the closest match was shown
    thumbs_down: int
    changed: bool = False  # its pairing's passage changed: staff should look again

    def kinds(self) -> str:
        """Say in a few words how the group went unanswered."""
        parts = [(self.nothing, "未找到"), (self.closest, "最接近"), (self.thumbs_down, "👎")]
        marks = [f"{label} {n}" if n != self.asked else label for n, label in parts if n]
        return ("⚠️ 原文已改动；" if self.changed else "") + "，".join(marks)

    def as_json(self) -> dict[str, Any]:
        """The group as JSON for `linli pending --json`."""
        return asdict(self)


# A question is pending when unanswered or given 👎, and asked after its group's pairing
# (a pairing answers the questions that come after it; one whose passage changed does not).
_PENDING = """
WITH pending AS (
    SELECT q.id, q.asked_at, q.question, q.answered, q.article_id, w.words,
           EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.value = -1)
               AS down
    FROM questions q JOIN asked_words w ON w.question_id = q.id
    LEFT JOIN pairings p ON p.words = w.words
    WHERE q.asked_at >= :since
      AND (q.answered = 0 OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id
                                     AND f.value = -1))
      AND (p.words IS NULL OR q.asked_at > p.at OR p.words IN (SELECT value FROM changed))
)
SELECT g.words, q.question, g.newest, g.n, g.last, g.honest_no, g.closest, g.down
FROM (SELECT words, max(id) AS newest, count(*) AS n, max(asked_at) AS last,
             sum(answered = 0 AND article_id IS NULL AND NOT down) AS honest_no,
             sum(answered = 0 AND article_id IS NOT NULL AND NOT down) AS closest,
             sum(down) AS down
      FROM pending GROUP BY words) g JOIN questions q ON q.id = g.newest
ORDER BY g.n DESC, g.last DESC, g.newest DESC
"""


def pending_groups(records: Records, days: int = 30, changed: frozenset[str] = frozenset(),
                   now: float | None = None) -> list[PendingGroup]:
    """The queue over the last `days` days; `changed`: paired groups whose passage changed."""
    since = (time.time() if now is None else now) - days * 86400

    def read(db: Any) -> list[PendingGroup]:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS changed (value TEXT PRIMARY KEY)")
        db.execute("DELETE FROM changed")
        db.executemany("INSERT OR IGNORE INTO changed VALUES (?)", [(w,) for w in changed])
        return [PendingGroup(words=r[0], question=r[1], question_id=r[2], asked=r[3],
                             last_asked=r[4], nothing=r[5], closest=r[6], thumbs_down=r[7],
                             changed=r[0] in changed)
                for r in db.execute(_PENDING, {"since": since})]

    return records.run(read)
