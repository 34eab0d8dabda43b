"""Pairings: a group of questions (its searched words) answered by one chosen passage.

A link pairing names a passage by its article and the hash of its text, so it survives
reindexing while the text is unchanged, and is flagged when the article changes. A
staff answer (or a designated reply, which points to one) names the whole article: its
file is the answer, and editing it edits the answer. Imports bot.records, corpus, retrieval.
"""

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Literal

from bot.records import Records
from corpus.chunk import chunk_article
from corpus.models import Article, Chunk
from retrieval.search import Hit, Searcher

Kind = Literal["staff", "link", "designated"]
WHOLE = ""  # the passage hash of a pairing to a whole article (a staff answer)
MAX_WHOLE_CHARS = 1500  # a staff answer shown whole, cut here (Telegram allows 4096)


def passage_hash(text: str) -> str:
    """A short, stable hash of a passage's text (12 hex digits fit in a button's data)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Pairing:
    """A group's chosen answer."""

    words: str
    question: str
    article_id: str
    passage: str  # passage_hash of the chunk's text, or WHOLE
    kind: Kind
    at: float


def save_pairing(records: Records, pairing: Pairing) -> None:
    """Store (or replace) the group's pairing."""
    records.run(lambda db: db.execute(
        "INSERT OR REPLACE INTO pairings VALUES (?, ?, ?, ?, ?, ?)",
        (pairing.words, pairing.question, pairing.article_id, pairing.passage, pairing.kind,
         pairing.at)))


def pair(records: Records, words: str, question: str, article_id: str, passage: str,
         kind: Kind) -> Pairing:
    """Pair a group with a passage now; return the pairing."""
    pairing = Pairing(words, question, article_id, passage, kind, time.time())
    save_pairing(records, pairing)
    return pairing


def pairing_of(records: Records, words: str) -> Pairing | None:
    """The group's pairing, if it has one."""
    row = records.run(lambda db: db.execute(
        "SELECT * FROM pairings WHERE words=?", (words,)).fetchone())
    return None if row is None else _pairing(row)


def all_pairings(records: Records) -> list[Pairing]:
    """Every pairing, newest first."""
    rows = records.run(lambda db: db.execute(
        "SELECT * FROM pairings ORDER BY at DESC").fetchall())
    return [_pairing(row) for row in rows]


def remove_pairing(records: Records, words: str) -> bool:
    """Forget a group's pairing; return whether there was one."""
    cursor = records.run(lambda db: db.execute("DELETE FROM pairings WHERE words=?", (words,)))
    return bool(cursor.rowcount)


def _pairing(row: Any) -> Pairing:
    return Pairing(str(row[0]), str(row[1]), str(row[2]), str(row[3]), row[4], float(row[5]))


def find_passage(searcher: Searcher, pairing: Pairing) -> Hit | None:
    """The paired passage in the index in service, or None if its article changed or went."""
    article = searcher.article(pairing.article_id)
    if article is None:
        return None
    if pairing.passage == WHOLE:
        return whole_hit(article)
    chunk = next((c for c in chunk_article(article) if passage_hash(c.text) == pairing.passage),
                 None)
    return None if chunk is None else chunk_hit(article, chunk)


def chunk_hit(article: Article, chunk: Chunk) -> Hit:
    """A chosen passage as a hit the replies render (no sentence bold: staff chose it whole)."""
    return Hit(rank=1, score=0.0, coverage=1.0, chunk_id=chunk.id, article_id=article.id,
               title=article.title, subtitle=article.subtitle, source=article.source,
               date=article.date, byline=article.byline, url=article.url,
               section=chunk.section, text=chunk.text, best_sentence="")


def whole_hit(article: Article) -> Hit:
    """A staff answer as one hit: all its paragraphs, as staff wrote them."""
    text = "\n".join(article.paragraphs)
    if len(text) > MAX_WHOLE_CHARS:
        text = text[: MAX_WHOLE_CHARS - 1] + "…"
    return Hit(rank=1, score=0.0, coverage=1.0, chunk_id=f"{article.id}#0",
               article_id=article.id, title=article.title, subtitle=article.subtitle,
               source=article.source, date=article.date, byline=article.byline,
               url=article.url, section=None, text=text, best_sentence="")


def changed_groups(records: Records, searcher: Searcher) -> frozenset[str]:
    """The paired groups whose passage is no longer in the index (the article changed)."""
    return frozenset(p.words for p in all_pairings(records) if find_passage(searcher, p) is None)
