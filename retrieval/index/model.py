"""The index in memory (`Index`), as search reads it, and its save and load.

An index is a list of segments (see `segment.py`); an edit adds one and drops
articles from others. Search sees one sequence of articles, one of passages (the
segments' live ones, in segment order) and one BM25 scorer whose statistics are
those of all live passages: the scores a full rebuild would give. On disk, see
`store.py`: `save_index` writes new segments and deletions first, then replaces the
manifest in one rename, so a crash at any point leaves the old index whole. May
import corpus's models, `retrieval.bm25`, `retrieval.text.pairs` and the index's
columns, manifest, segment and store.
"""

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from corpus.models import Article
from retrieval.bm25 import BM25, BM25Params, Part, Postings
from retrieval.index.columns import ChunkTable
from retrieval.index.manifest import CorpusManifest
from retrieval.index.segment import Deletions, Segment
from retrieval.index.store import (
    FORMAT_VERSION,
    INDEX_MANIFEST,
    STAGING,
    IndexFileError,
    file_checksum,
    free_segment_number,
    naming,
    next_generation,
    saved_stamp,
    segment_name,
    tidy,
    write_bytes,
)
from retrieval.text.pairs import PairCounts

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

    @cached_property
    def pairs(self) -> PairCounts:
        """How many live passages hold each character pair: segments' less their deletions."""
        whole = self._whole()
        if whole is not None:
            return whole.pairs
        return PairCounts.summed([s.pairs for s in self.segments],
                                 [s.deletions.pairs for s in self.segments])

    def pair_counts(self) -> PairCounts:
        """How many live passages hold each character pair (summed once, then kept)."""
        return self.pairs

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
        """Write the index to `directory`: a crash at any point leaves the old one whole."""
        save_index(self, directory)

    @classmethod
    def load(cls, directory: Path) -> "Index":
        """Load a saved index; raise `IndexFileError` if it cannot be trusted."""
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


def save_index(index: Index, directory: Path) -> None:
    """Write the index's new segments and deletions, then its manifest, into `directory`."""
    with naming(directory):  # the folder, where no writer named its file (a full disk)
        _save_index(index, directory)


def _save_index(index: Index, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    next_segment = max(index.next_segment, free_segment_number(directory))
    entries = []
    for segment in index.segments:
        if not segment.name or index.folder != directory or not (directory /
                                                                   segment.name).is_dir():
            name = segment_name(next_segment)
            next_segment += 1
            staging = directory / f"{STAGING}{name}"
            shutil.rmtree(staging, ignore_errors=True)
            segment.checksums = segment.save(staging)
            os.replace(staging, directory / name)
            segment.name = name
            segment.deletions = replace(segment.deletions, file="")  # its file is not here
        entries.append(_entry(segment, directory))
    index.stamp = repr(time.time())
    manifest = {
        "format": FORMAT_VERSION, "created": index.stamp, "params": asdict(index.params),
        "fingerprint": index.fingerprint, "local_names": index.local_names,
        "article_hashes": index.article_hashes, "names_by_content": index.names_by_content,
        "content_keys": index.content_keys, "segments": entries,
        "next_segment": next_segment,
    }
    staging_manifest = directory / f"{STAGING}{INDEX_MANIFEST}"
    staging_manifest.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(staging_manifest, directory / INDEX_MANIFEST)  # the one step that switches
    index.folder, index.next_segment = directory, next_segment
    named = {entry["name"] for entry in entries}
    named |= {entry["deletions"]["file"] for entry in entries if entry["deletions"]}
    tidy(directory, named)


def _entry(segment: Segment, directory: Path) -> dict[str, Any]:
    """The manifest's entry for a segment, its deletions written if they are new."""
    deletions = None
    dropped = segment.deletions
    if len(dropped.articles):
        if not dropped.file or not (directory / dropped.file).exists():
            generation = next_generation(directory, segment.name)
            name = f"{segment.name}.del-{generation:06d}.json"
            staging = directory / f"{STAGING}{name}"
            checksum = write_bytes(staging, dropped.to_json())
            os.replace(staging, directory / name)
            dropped.file, dropped.checksum = name, checksum
        deletions = {"file": dropped.file, "checksum": dropped.checksum}
    return {"name": segment.name, "checksums": segment.checksums, "deletions": deletions}


def load_index(directory: Path, attempts: int = 3) -> Index:
    """Load a saved index; raise `IndexFileError` if it cannot be trusted.

    Its arrays and texts are mapped, not read: a page is read when a search touches it.
    A manifest replaced while it was read (another process saved) is read again.
    """
    for attempt in range(attempts):
        stamp = saved_stamp(directory)
        try:
            return _load(directory)
        except IndexFileError:
            if attempt + 1 == attempts or saved_stamp(directory) == stamp:
                raise
    raise IndexFileError(f"{directory}: no saved index")  # not reached


def _load(directory: Path) -> Index:
    manifest_path = directory / INDEX_MANIFEST
    if not manifest_path.exists():
        raise IndexFileError(f"{directory}: no saved index")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexFileError(f"{directory}: index format {manifest.get('format')} is not "
                                 f"the current {FORMAT_VERSION}")
        segments = [Segment.load(directory / entry["name"], dict(entry["checksums"]),
                                 _deletions(directory, entry["deletions"]))
                    for entry in manifest["segments"]]
        if not segments:
            raise ValueError("no segment")
        return Index(
            segments=segments, params=BM25Params(**manifest["params"]),
            local_names=list(manifest["local_names"]),
            article_hashes=dict(manifest["article_hashes"]),
            names_by_content=dict(manifest["names_by_content"]),
            fingerprint=str(manifest["fingerprint"]), content_keys=dict(manifest["content_keys"]),
            stamp=str(manifest["created"]), folder=directory,
            next_segment=int(manifest["next_segment"]))
    except IndexFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise IndexFileError(f"{directory}: saved index is corrupt ({err})") from None


def _deletions(directory: Path, entry: dict[str, str] | None) -> Deletions:
    if entry is None:
        return Deletions()
    path = directory / entry["file"]
    if file_checksum(path) != entry["checksum"]:
        raise IndexFileError(f"{path}: saved index is corrupt (checksum differs)")
    deletions = Deletions.from_json(path.read_bytes())
    deletions.file, deletions.checksum = entry["file"], entry["checksum"]
    return deletions
