"""Merge segments into one, streaming (memory bounded whatever their size), and when.

When: by size tiers (`merge_policy`), as search engines do: once `MERGE_FACTOR`
segments of about one size (0-9 live passages, 10-99, ...) gather, they become one
of the next size, so an edit costs a small segment and the segments stay few; a
segment that lost more than `EXPUNGE_SHARE` of its passages is rewritten without
them. How:
The merged segment holds the live articles of the segments in their order; the
dropped ones' passages and postings are left out. Texts and columns are copied as
runs of bytes; postings a block of terms at a time (every segment's terms are sorted,
so a range of the merged terms is one stretch of each segment's postings), each
block written as it is made. Nothing is changed in the segments merged: a merge
killed half-way leaves a folder no manifest names, removed at the next save.
May import numpy and the index's columns, model, segment and store.
"""

import io
import itertools
import logging
import math
import os
import shutil
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from retrieval.index.columns import TextColumn, drop_pages
from retrieval.index.model import Index, save_index
from retrieval.index.segment import Segment
from retrieval.index.store import (
    STAGING,
    free_segment_number,
    save_array,
    segment_name,
    write_json,
)
from retrieval.text.pairs import PAIR_FILES, PairCounts

logger = logging.getLogger(__name__)

BLOCK = 1 << 21  # postings merged at a time: 2M, some 100 MB of temporaries
PIECE = 1 << 24  # bytes of text copied at a time
MERGE_FACTOR = 10  # segments of one size tier merged into one of the next
EXPUNGE_SHARE = 0.5  # a segment that lost more of its passages is rewritten without them


class _Writer:
    """Write a file piece by piece, keeping its size and CRC-32 (the saved checksum)."""

    def __init__(self, path: Path) -> None:
        self.out: BinaryIO = path.open("wb")
        self.size, self.crc = 0, 0

    def write(self, data: "bytes | memoryview") -> None:
        self.out.write(data)
        self.size += len(data)
        self.crc = zlib.crc32(data, self.crc)

    def close(self) -> str:
        self.out.close()
        return f"{self.size}:{self.crc:08x}"


def _array_writer(path: Path, dtype: type, length: int) -> _Writer:
    """Start a .npy file of `length` entries, its data appended afterwards."""
    writer = _Writer(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(
        np.dtype(dtype)), "fortran_order": False, "shape": (length,)})
    writer.write(header.getvalue())
    return writer


def _append(writer: _Writer, array: NDArray[Any]) -> None:
    if array.size:
        writer.write(np.ascontiguousarray(array).data.cast("B"))


def _runs(keep: NDArray[np.bool_]) -> Iterator[tuple[int, int]]:
    """The stretches [start, end) of kept entries."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], keep, [False]]).astype(np.int8)))
    yield from zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)


def _copy_texts(columns: list[TextColumn], keeps: list[NDArray[np.bool_]], folder: Path,
                blob_name: str, offsets_name: str, known: dict[str, str]) -> None:
    """Write the kept texts of each column, in order, as runs of bytes, and their offsets."""
    blob = _Writer(folder / blob_name)
    lengths = []
    for column, keep in zip(columns, keeps, strict=True):
        for start, end in _runs(keep):
            low, high = int(column.offsets[start]), int(column.offsets[end])
            for piece in range(low, high, PIECE):
                blob.write(column.blob[piece : min(piece + PIECE, high)])
                drop_pages(column.blob)
        lengths.append(np.diff(np.asarray(column.offsets))[keep])
    known[blob_name] = blob.close()
    offsets = np.zeros(sum(len(x) for x in lengths) + 1, dtype=np.int64)
    if len(offsets) > 1:
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
    known[offsets_name] = save_array(folder / offsets_name, offsets)


def _column(segment: Segment, name: str) -> TextColumn:
    value = {"articles": getattr(segment.articles, "lines", None),
             "searchable": segment.searchable, "tokens": segment.tokens}[name]
    if isinstance(value, TextColumn):
        return value
    if name == "articles":
        return TextColumn.from_texts([a.model_dump_json() + "\n" for a in segment.articles])
    return TextColumn.from_texts(list(value))  # type: ignore[arg-type]


def merge_segments(segments: list[Segment], folder: Path, block: int = BLOCK) -> dict[str, str]:
    """Write the live contents of `segments` as one new segment in `folder`; return checksums."""
    folder.mkdir(parents=True)
    known: dict[str, str] = {}
    alive_articles = [s.alive_articles() for s in segments]
    alive_docs = [s.alive_docs() for s in segments]
    _copy_texts([_column(s, "articles") for s in segments], alive_articles, folder,
                "articles.jsonl", "articles.npy", known)
    _copy_texts([_column(s, "searchable") for s in segments], alive_docs, folder,
                "searchable.bin", "searchable.npy", known)
    _copy_texts([_column(s, "tokens") for s in segments], alive_docs, folder,
                "tokens.jsonl", "tokens.npy", known)
    known["article_ids.json"] = write_json(folder / "article_ids.json", [
        i for s, alive in zip(segments, alive_articles, strict=True)
        for i, keep in zip(s.article_ids, alive.tolist(), strict=True) if keep])
    known["token_keys.json"] = write_json(folder / "token_keys.json", [
        k for s, alive in zip(segments, alive_docs, strict=True)
        for k, keep in zip(s.token_keys, alive.tolist(), strict=True) if keep])
    _merge_chunks(segments, alive_articles, alive_docs, folder, known)
    chars: Counter[str] = Counter()
    for s in segments:
        chars.update(s.char_df)
        chars.subtract(s.deletions.char_df)
    known["char_df.json"] = write_json(folder / "char_df.json",
                                       {c: n for c, n in sorted(chars.items()) if n > 0})
    pairs = PairCounts.summed([s.pairs for s in segments], [s.deletions.pairs for s in segments])
    for name, array in zip(PAIR_FILES, (pairs.codes, pairs.df), strict=True):
        known[name] = save_array(folder / name, array)
    _merge_postings(segments, alive_docs, folder, known, block)
    return known


def _merge_chunks(segments: list[Segment], alive_articles: list[NDArray[np.bool_]],
                  alive_docs: list[NDArray[np.bool_]], folder: Path,
                  known: dict[str, str]) -> None:
    """Write the live chunks' columns, articles renumbered, headings in one list."""
    sections: dict[str, int] = {}
    columns: dict[str, list[NDArray[np.int32]]] = {c: [] for c in
                                                   ("article", "ordinal", "start", "end",
                                                    "section")}
    offset = 0
    for s, alive, docs in zip(segments, alive_articles, alive_docs, strict=True):
        renumber = np.cumsum(alive) - 1 + offset
        offset += int(alive.sum())
        table = s.chunks
        columns["article"].append(renumber.take(table.article[docs]).astype(np.int32))
        for name in ("ordinal", "start", "end"):
            columns[name].append(np.asarray(getattr(table, name))[docs])
        heading = np.asarray([sections.setdefault(h, len(sections)) for h in table.sections]
                             + [-1], dtype=np.int32)
        columns["section"].append(heading.take(np.asarray(table.section)[docs]))
    for name, parts in columns.items():
        merged = np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)
        known[f"chunks.{name}.npy"] = save_array(folder / f"chunks.{name}.npy", merged)
    known["sections.json"] = write_json(folder / "sections.json", list(sections))


def _merge_postings(segments: list[Segment], alive_docs: list[NDArray[np.bool_]],
                    folder: Path, known: dict[str, str], block: int) -> None:
    """Write the live postings of every segment, a block of terms at a time."""
    vocabulary = sorted(set().union(*(s.postings.terms for s in segments)))
    position = {term: i for i, term in enumerate(vocabulary)}
    maps = [np.fromiter((position[t] for t in s.postings.terms), dtype=np.int64,
                        count=len(s.postings.terms)) for s in segments]
    live = np.zeros(len(vocabulary), dtype=np.int64)
    every = np.zeros(len(vocabulary), dtype=np.int64)
    to_new, lengths, offset = [], [], 0
    for s, term_map, docs in zip(segments, maps, alive_docs, strict=True):
        counts = np.diff(s.postings.indptr)
        every[term_map] += counts
        dead = s.dead_df_array()
        live[term_map] += counts if dead is None else counts - dead
        renumber = np.where(docs, np.cumsum(docs) - 1 + offset, -1).astype(np.int32)
        offset += int(docs.sum())
        to_new.append(renumber)
        lengths.append(np.asarray(s.postings.doc_len)[docs])
    doc_len = np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32)
    held = live > 0  # a term only dropped articles held is gone, as from a rebuild
    rank = np.cumsum(held) - 1
    terms = [t for t, h in zip(vocabulary, held.tolist(), strict=True) if h]
    total = int(live.sum())
    doc_ids = _array_writer(folder / "postings.doc_ids.npy", np.int32, total)
    tfs = _array_writer(folder / "postings.tfs.npy", np.int32, total)
    max_tf, min_len = np.zeros(len(terms), np.int32), np.zeros(len(terms), np.int32)
    counts_out = np.zeros(len(terms), dtype=np.int64)
    cuts = _blocks(every, block)
    for low, high in itertools.pairwise(cuts):
        term_parts, doc_parts, tf_parts = [], [], []
        for s, term_map, renumber in zip(segments, maps, to_new, strict=True):
            first, last = np.searchsorted(term_map, [low, high])
            start, end = int(s.postings.indptr[first]), int(s.postings.indptr[last])
            moved = renumber.take(s.postings.doc_ids[start:end])
            keep = moved >= 0
            per_term = np.diff(np.asarray(s.postings.indptr[first : last + 1])).astype(np.int64)
            term_parts.append(np.repeat(term_map[first:last], per_term)[keep])
            doc_parts.append(moved[keep])
            tf_parts.append(np.asarray(s.postings.tfs[start:end])[keep])
        for s in segments:  # what was read is not kept: the merge's memory stays bounded
            drop_pages(s.postings.doc_ids, s.postings.tfs)
        term = np.concatenate(term_parts)
        # Stable: a segment's documents come sorted, and before the next segment's.
        order = np.argsort(term, kind="stable")
        term, doc, tf = rank.take(term[order]), np.concatenate(doc_parts)[order], \
            np.concatenate(tf_parts)[order]
        _append(doc_ids, doc.astype(np.int32))
        _append(tfs, tf.astype(np.int32))
        if len(term):
            present, starts = np.unique(term, return_index=True)
            counts_out[present] = np.diff(np.append(starts, len(term)))
            max_tf[present] = np.maximum.reduceat(tf, starts)
            min_len[present] = np.minimum.reduceat(doc_len.take(doc), starts)
    known["postings.doc_ids.npy"] = doc_ids.close()
    known["postings.tfs.npy"] = tfs.close()
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(counts_out, out=indptr[1:])
    known["postings.indptr.npy"] = save_array(folder / "postings.indptr.npy", indptr)
    known["postings.doc_len.npy"] = save_array(folder / "postings.doc_len.npy", doc_len)
    known["bounds.max_tf.npy"] = save_array(folder / "bounds.max_tf.npy", max_tf)
    known["bounds.min_len.npy"] = save_array(folder / "bounds.min_len.npy", min_len)
    known["vocab.json"] = write_json(folder / "vocab.json", terms)


def _blocks(per_term: NDArray[np.int64], block: int) -> list[int]:
    """Cut the terms into ranges of about `block` postings (a term is never cut)."""
    ends = np.cumsum(per_term)
    cuts = [0]
    while cuts[-1] < len(per_term):
        before = int(ends[cuts[-1] - 1]) if cuts[-1] else 0
        nxt = int(np.searchsorted(ends, before + block, side="right"))
        cuts.append(max(nxt, cuts[-1] + 1))
    return cuts


def tier(segment: Segment) -> int:
    """A segment's size tier: 0 up to 9 live passages, 1 up to 99, and so on."""
    live = segment.size - int((~segment.alive_docs()).sum())
    return int(math.log10(max(live, 1)))


def merge_policy(index: Index, index_dir: Path) -> Index:
    """Merge segments by tiers (see the module's docstring); return the index as saved."""
    chosen: list[int] = []
    tiers: dict[int, list[int]] = {}
    for i, segment in enumerate(index.segments):
        alive = segment.alive_docs()
        if segment.size and (~alive).sum() > EXPUNGE_SHARE * segment.size:
            chosen = [i]
            break
        tiers.setdefault(tier(segment), []).append(i)
    else:
        full = [members for members in tiers.values() if len(members) >= MERGE_FACTOR]
        chosen = min(full, key=lambda m: tier(index.segments[m[0]])) if full else []
    if not chosen:
        return index
    return merge_into(index, index_dir, chosen)


def merge_into(index: Index, index_dir: Path, chosen: Sequence[int]) -> Index:
    """Merge the chosen segments into one, saved in place of the first of them.

    The merged segment is written under a name no manifest uses, then the manifest is
    replaced: a crash before that leaves the old segments serving.
    """
    segments = [index.segments[i] for i in chosen]
    number = max(index.next_segment, free_segment_number(index_dir))
    staging = index_dir / f"{STAGING}{segment_name(number)}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        checksums = merge_segments(segments, staging)
        os.replace(staging, index_dir / segment_name(number))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    merged = Segment.load(index_dir / segment_name(number), checksums)
    merged.name = segment_name(number)
    kept = [s for i, s in enumerate(index.segments) if i not in set(chosen)]
    kept.insert(min(chosen), merged)
    result = replace(index, segments=kept, next_segment=number + 1, folder=index_dir)
    save_index(result, index_dir)
    if index.corpus is not None:
        index.corpus.index_stamp = result.stamp
        index.corpus.save(index_dir)
        result.corpus = index.corpus
    logger.info("merged %d segments into %s", len(segments), merged.name)
    return result
