"""The index as search reads it: its segments' live articles and passages, numbered as one.

An index is a list of segments (see `retrieval/segment.py`); an edit adds one and
drops articles from others. Search sees one sequence of articles, one of passages
(the segments' live ones, in segment order) and one BM25 scorer whose statistics are
those of all live passages: the scores a full rebuild would give. May import corpus
and retrieval's bm25, columns, manifest and segment modules.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from corpus.models import Article
from retrieval.bm25 import BM25, BM25Params, Part, Postings
from retrieval.columns import ChunkTable, TextColumn
from retrieval.manifest import CorpusManifest
from retrieval.segment import Segment

T = TypeVar("T")


class Stitched(Sequence[T]):
    """A read-only sequence made of other sequences' items: item i is parts[part[i]][local[i]]."""

    def __init__(self, parts: list[Sequence[T]], part: NDArray[np.int32],
                 local: NDArray[np.int64]) -> None:
        self.parts, self.part, self.local = parts, part, local

    def __len__(self) -> int:
        return len(self.part)

    def __getitem__(self, i: int | slice) -> T | list[T]:  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]  # type: ignore[misc]
        size = len(self)
        if not -size <= i < size:
            raise IndexError(i)
        i = i if i >= 0 else i + size
        return self.parts[int(self.part[i])][int(self.local[i])]


@dataclass
class Layout:
    """Where each live article and passage sits: its segment and its number there."""

    article_part: NDArray[np.int32]
    article_local: NDArray[np.int64]
    doc_part: NDArray[np.int32]
    doc_local: NDArray[np.int64]
    parts: list[Part]


@dataclass
class Index:
    """Everything search needs: the segments and what the index as a whole knows."""

    segments: list[Segment]
    params: BM25Params
    local_names: list[str]
    article_hashes: dict[str, str]
    names_by_content: dict[str, list[str]]
    fingerprint: str
    content_keys: dict[str, str] = field(default_factory=dict, repr=False)  # id -> text hash
    stamp: str = ""
    folder: Path | None = None  # where its segments are saved (None: in memory)
    corpus: CorpusManifest | None = field(default=None, repr=False)  # as saved beside it
    next_segment: int = 1
    tokens: dict[str, list[str]] = field(default_factory=dict, repr=False)  # loaded on demand

    @cached_property
    def layout(self) -> Layout:
        """Number the live articles and passages of all segments as one sequence."""
        article_part, article_local, doc_part, doc_local, parts = [], [], [], [], []
        offset = 0
        for i, segment in enumerate(self.segments):
            alive = segment.alive_articles()
            articles = np.flatnonzero(alive)
            article_part.append(np.full(len(articles), i, dtype=np.int32))
            article_local.append(articles)
            docs = np.flatnonzero(alive.take(segment.chunks.article))
            doc_part.append(np.full(len(docs), i, dtype=np.int32))
            doc_local.append(docs)
            whole = len(docs) == segment.size
            to_global = None
            if not whole:
                to_global = np.full(segment.size, -1, dtype=np.int32)
                to_global[docs] = np.arange(offset, offset + len(docs), dtype=np.int32)
            parts.append(Part(segment.postings, offset, to_global,
                              None if whole else docs.astype(np.int32),
                              segment.dead_df_array(), *segment.term_bounds()))
            offset += len(docs)

        def joined(arrays: list[NDArray[Any]], dtype: type) -> NDArray[Any]:
            return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)

        return Layout(joined(article_part, np.int32), joined(article_local, np.int64),
                      joined(doc_part, np.int32), joined(doc_local, np.int64), parts)

    def _whole(self) -> Segment | None:
        """The only segment, if there is one and it lost no article: it is the index as is."""
        if len(self.segments) == 1 and not len(self.segments[0].deletions.articles):
            return self.segments[0]
        return None

    @cached_property
    def article_ids(self) -> list[str]:
        """The live articles' ids, in index order."""
        whole = self._whole()
        if whole is not None:
            return whole.article_ids
        return [self.segments[p].article_ids[i] for p, i in
                zip(self.layout.article_part.tolist(), self.layout.article_local.tolist(),
                    strict=True)]

    @cached_property
    def articles(self) -> Sequence[Article]:
        """The live articles, in index order (each read when asked for)."""
        whole = self._whole()
        if whole is not None:
            return whole.articles
        return Stitched([s.articles for s in self.segments], self.layout.article_part,
                        self.layout.article_local)

    @cached_property
    def searchable(self) -> Sequence[str]:
        """Each live passage's normalised text, in index order."""
        whole = self._whole()
        if whole is not None:
            return whole.searchable
        return Stitched([s.searchable for s in self.segments], self.layout.doc_part,
                        self.layout.doc_local)

    @cached_property
    def chunks(self) -> ChunkTable:
        """The live passages as one chunk table over `articles`."""
        whole = self._whole()
        if whole is not None:
            return whole.chunks
        layout, columns = self.layout, {}
        first_article = np.cumsum([0] + [int(s.alive_articles().sum()) for s in self.segments])
        sections: dict[str, int] = {}
        article, section = [], []
        for i, segment in enumerate(self.segments):
            docs = layout.doc_local[layout.doc_part == i]
            table = segment.chunks
            renumber = np.cumsum(segment.alive_articles()) - 1 + first_article[i]
            article.append(renumber.take(table.article[docs]))
            heading = np.asarray([sections.setdefault(h, len(sections)) for h in table.sections]
                                 + [-1], dtype=np.int32)
            section.append(heading.take(np.asarray(table.section)[docs]))
        for name in ("ordinal", "start", "end"):
            columns[name] = np.concatenate([np.asarray(getattr(s.chunks, name))[
                layout.doc_local[layout.doc_part == i]] for i, s in enumerate(self.segments)]
            ).astype(np.int32)
        return ChunkTable(self.articles, np.concatenate(article).astype(np.int32),
                          columns["ordinal"], columns["start"], columns["end"],
                          np.concatenate(section).astype(np.int32), list(sections))

    @cached_property
    def char_df(self) -> dict[str, int]:
        """How many live passages hold each character (the IDF of words without a term)."""
        whole = self._whole()
        if whole is not None:
            return whole.char_df
        counts: Counter[str] = Counter()
        for segment in self.segments:
            counts.update(segment.char_df)
            counts.subtract(segment.deletions.char_df)
        return {char: n for char, n in sorted(counts.items()) if n > 0}

    @property
    def postings(self) -> Postings:
        """The postings of an index of one whole segment (tests and benchmarks read them)."""
        whole = self._whole()
        if whole is None:
            raise ValueError("the index has several segments or deletions: merge it first")
        return whole.postings

    def bm25(self) -> BM25:
        """Return the scorer over the live passages of every segment."""
        return BM25(self.layout.parts, self.params)

    def save(self, directory: Path) -> None:
        """Write the index to `directory` (see `retrieval/store.py`): a crash leaves the old."""
        from retrieval.store import save_index  # the store imports this module

        save_index(self, directory)

    @classmethod
    def load(cls, directory: Path) -> "Index":
        """Load a saved index; raise `IndexFileError` if it cannot be trusted."""
        from retrieval.store import load_index

        return load_index(directory)

    def live_passages(self) -> int:
        """How many passages the index serves."""
        return len(self.layout.doc_local)

    def load_token_cache(self) -> None:
        """Read every live passage's saved tokens into `tokens`, by cache key."""
        for segment in self.segments:
            alive = segment.alive_docs()
            for i in np.flatnonzero(alive).tolist():
                self.tokens[segment.token_keys[i]] = json.loads(segment.tokens[i])

    def token_lookup(self) -> dict[str, tuple[int, int]]:
        """Where each live passage's saved tokens are, by cache key: (segment, passage)."""
        found: dict[str, tuple[int, int]] = {}
        for p, segment in enumerate(self.segments):
            alive = segment.alive_docs()
            for i in np.flatnonzero(alive).tolist():
                found.setdefault(segment.token_keys[i], (p, i))
        return found

    def saved_tokens(self, where: tuple[int, int]) -> tuple[list[str], str]:
        """The tokens and normalised text saved for one passage (from `token_lookup`)."""
        segment = self.segments[where[0]]
        tokens: list[str] = json.loads(segment.tokens[where[1]])
        return tokens, segment.searchable[where[1]]


def texts_of(column: Sequence[str]) -> TextColumn:
    """Pack texts as a column (kept as is when already one)."""
    return column if isinstance(column, TextColumn) else TextColumn.from_texts(column)
