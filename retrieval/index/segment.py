"""One segment of the index: a few articles' passages, postings and texts, never rewritten.

A segment folder (`seg-NNNNNN/`) holds its articles as JSON lines, its chunks as
columns, its passages' normalised texts, its postings (terms sorted, documents numbered
from 0 in the segment) with each term's largest tf and shortest document, its
characters' and character pairs' passage counts and its passages' tokens (the cache a
rebuild with the same dictionaries starts from). An edit never changes a segment: it
writes a new one and a deletions file naming the articles dropped from the old one.
Everything is checked against the checksums the index's manifest keeps. May import
corpus's models, `retrieval.bm25`, `retrieval.text.pairs` and the index's columns and
store.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from corpus.models import Article
from retrieval.bm25 import Postings, term_bounds
from retrieval.index.columns import (
    ArticleTable,
    ChunkTable,
    TextColumn,
    drop_pages,
    map_array,
    map_bytes,
)
from retrieval.index.store import (
    IndexFileError,
    check_files,
    read_json,
    save_array,
    write_bytes,
    write_json,
)
from retrieval.text.pairs import PAIR_FILES, PairCounts

POSTINGS = ("indptr", "doc_ids", "tfs", "doc_len")
BOUNDS = ("max_tf", "min_len")


@dataclass
class Deletions:
    """The articles dropped from a segment, and what their passages counted."""

    articles: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dead_df: dict[int, int] = field(default_factory=dict)  # local term -> postings dropped
    char_df: dict[str, int] = field(default_factory=dict)  # character -> passages dropped
    pairs: PairCounts = field(default_factory=PairCounts.empty)  # pair -> passages dropped
    file: str = ""  # the file they are saved in ("" until saved)
    checksum: str = ""

    def to_json(self) -> bytes:
        """The deletions as saved."""
        terms = sorted(self.dead_df)
        return json.dumps({"articles": self.articles.tolist(), "terms": terms,
                           "counts": [self.dead_df[t] for t in terms],
                           "char_df": dict(sorted(self.char_df.items())),
                           "pair_codes": self.pairs.codes.tolist(),
                           "pair_df": self.pairs.df.tolist()},
                          ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "Deletions":
        """Read saved deletions."""
        raw = json.loads(data)
        pairs = PairCounts(np.asarray(raw["pair_codes"], dtype=np.uint64),
                           np.asarray(raw["pair_df"], dtype=np.int64))
        if pairs.codes.shape != pairs.df.shape:
            raise ValueError("pair counts do not agree")
        return cls(np.asarray(raw["articles"], dtype=np.int64),
                   dict(zip(raw["terms"], raw["counts"], strict=True)), dict(raw["char_df"]),
                   pairs)


@dataclass
class Segment:
    """A segment's contents: mapped from its folder, or in memory before it is saved."""

    articles: Sequence[Article]
    article_ids: list[str]
    chunks: ChunkTable
    postings: Postings
    searchable: Sequence[str]
    char_df: dict[str, int]
    token_keys: list[str]
    tokens: Sequence[str]  # each passage's tokens as a JSON line, in chunk order
    pairs: PairCounts  # how many of its passages (deleted ones included) hold each pair
    bounds: tuple[NDArray[np.int32], NDArray[np.int32]] | None = None
    deletions: Deletions = field(default_factory=Deletions)
    name: str = ""
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """How many passages the segment holds, deleted ones included."""
        return len(self.chunks)

    def alive_articles(self) -> NDArray[np.bool_]:
        """Tell for each of the segment's articles whether it is still in the index."""
        alive = np.ones(len(self.article_ids), dtype=bool)
        alive[self.deletions.articles] = False
        return alive

    def alive_docs(self) -> NDArray[np.bool_]:
        """Tell for each of the segment's passages whether its article is still in the index."""
        alive: NDArray[np.bool_] = self.alive_articles().take(self.chunks.article)
        return alive

    def dead_df_array(self) -> NDArray[np.int64] | None:
        """Each local term's postings of dropped articles (None if nothing was dropped)."""
        if not self.deletions.dead_df:
            return None
        dead = np.zeros(len(self.postings.terms), dtype=np.int64)
        dead[list(self.deletions.dead_df)] = list(self.deletions.dead_df.values())
        return dead

    def term_bounds(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """Each term's largest tf and shortest document (saved with the segment)."""
        if self.bounds is None:
            self.bounds = term_bounds(self.postings)
        return self.bounds

    def save(self, folder: Path) -> dict[str, str]:
        """Write the segment into `folder` (a new one); return each file's checksum."""
        folder.mkdir(parents=True)
        known: dict[str, str] = {}
        articles = self.articles if isinstance(self.articles, ArticleTable) else \
            ArticleTable.from_lines([a.model_dump_json().encode("utf-8") for a in self.articles])
        searchable = self.searchable if isinstance(self.searchable, TextColumn) else \
            TextColumn.from_texts(self.searchable)
        tokens = self.tokens if isinstance(self.tokens, TextColumn) else \
            TextColumn.from_texts(self.tokens)
        for blob, column in (("articles.jsonl", articles.lines), ("searchable.bin", searchable),
                             ("tokens.jsonl", tokens)):
            offsets = blob.split(".")[0] + ".npy"
            known[blob] = write_bytes(folder / blob, column.blob)
            known[offsets] = save_array(folder / offsets, column.offsets)
        known["article_ids.json"] = write_json(folder / "article_ids.json", self.article_ids)
        known["token_keys.json"] = write_json(folder / "token_keys.json", self.token_keys)
        for name in ("article", "ordinal", "start", "end", "section"):
            known[f"chunks.{name}.npy"] = save_array(folder / f"chunks.{name}.npy",
                                                     getattr(self.chunks, name))
        known["sections.json"] = write_json(folder / "sections.json", self.chunks.sections)
        known["vocab.json"] = write_json(folder / "vocab.json", self.postings.terms)
        for name in POSTINGS:
            known[f"postings.{name}.npy"] = save_array(folder / f"postings.{name}.npy",
                                                       getattr(self.postings, name))
        for name, array in zip(BOUNDS, self.term_bounds(), strict=True):
            known[f"bounds.{name}.npy"] = save_array(folder / f"bounds.{name}.npy", array)
        known["char_df.json"] = write_json(folder / "char_df.json", self.char_df)
        for name, counts in zip(PAIR_FILES, (self.pairs.codes, self.pairs.df), strict=True):
            known[name] = save_array(folder / name, counts)
        return known

    @classmethod
    def load(cls, folder: Path, checksums: dict[str, str],
             deletions: Deletions | None = None) -> "Segment":
        """Map a saved segment after checking its files; raise IndexFileError if it cannot."""
        check_files(folder, checksums)
        try:
            articles = ArticleTable(TextColumn(map_bytes(folder / "articles.jsonl"),
                                               map_array(folder / "articles.npy")))
            postings = Postings(terms=read_json(folder / "vocab.json"), **{
                name: map_array(folder / f"postings.{name}.npy") for name in POSTINGS})
            segment = cls(
                articles=articles, article_ids=[str(i) for i in
                                                read_json(folder / "article_ids.json")],
                chunks=ChunkTable.load(folder, articles), postings=postings,
                searchable=TextColumn(map_bytes(folder / "searchable.bin"),
                                      map_array(folder / "searchable.npy")),
                char_df=read_json(folder / "char_df.json"),
                token_keys=read_json(folder / "token_keys.json"),
                tokens=TextColumn(map_bytes(folder / "tokens.jsonl"),
                                  map_array(folder / "tokens.npy")),
                pairs=PairCounts.load(folder),
                bounds=(map_array(folder / "bounds.max_tf.npy"),
                        map_array(folder / "bounds.min_len.npy")),
                deletions=deletions or Deletions(), name=folder.name, checksums=checksums)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as err:
            raise IndexFileError(f"{folder}: saved index is corrupt ({err})") from None
        segment.check_shapes(folder)
        return segment

    def check_shapes(self, folder: Path) -> None:
        """Raise IndexFileError unless the arrays' sizes agree."""
        p, n = self.postings, len(self.chunks)
        bounds = self.term_bounds()
        consistent = (
            len(p.doc_len) == n == len(self.searchable) == len(self.tokens)
            == len(self.token_keys)
            and len(self.articles) == len(self.article_ids)
            and len(p.indptr) == len(p.terms) + 1 == len(bounds[0]) + 1 == len(bounds[1]) + 1
            and len(p.doc_ids) == len(p.tfs) == int(p.indptr[-1])
            and (not len(self.deletions.articles)
                 or int(self.deletions.articles.max()) < len(self.articles))
            and all(0 <= t < len(p.terms) for t in self.deletions.dead_df)
        )
        if not consistent:
            raise IndexFileError(f"{folder}: saved index is corrupt (sizes do not agree)")

    def deleting(self, articles: NDArray[np.int64]) -> Deletions:
        """The deletions once `articles` (local positions) are dropped too."""
        fresh = np.setdiff1d(articles, self.deletions.articles)
        merged = Deletions(np.union1d(self.deletions.articles, fresh).astype(np.int64),
                           dict(self.deletions.dead_df), dict(self.deletions.char_df),
                           self.deletions.pairs)
        dying = np.zeros(len(self.article_ids), dtype=bool)
        dying[fresh] = True
        docs = np.flatnonzero(dying.take(self.chunks.article))
        if not len(docs):
            return merged
        counts = dead_term_counts(self.postings, docs)
        for term, count in counts.items():
            merged.dead_df[term] = merged.dead_df.get(term, 0) + count
        chars: Counter[str] = Counter(merged.char_df)
        for doc in docs.tolist():
            chars.update(set(self.searchable[doc]))
        merged.char_df = dict(chars)
        dropped = PairCounts.from_texts(self.searchable[doc] for doc in docs.tolist())
        merged.pairs = PairCounts.summed([merged.pairs, dropped])
        return merged


def dead_term_counts(postings: Postings, docs: NDArray[np.int64],
                     block: int = 1 << 22) -> dict[int, int]:
    """Count, per term, the postings of documents `docs` (read a block at a time)."""
    dying = np.zeros(len(postings.doc_len), dtype=bool)
    dying[docs] = True
    found: list[NDArray[np.int64]] = []
    for start in range(0, len(postings.doc_ids), block):
        hits = np.flatnonzero(dying.take(postings.doc_ids[start : start + block]))
        found.append(hits + start)
        drop_pages(postings.doc_ids)  # read once: an edit's memory stays that of the edit
    if not found:
        return {}
    positions = np.concatenate(found)
    terms = np.searchsorted(postings.indptr, positions, side="right") - 1
    ids, counts = np.unique(terms, return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist(), strict=True))
