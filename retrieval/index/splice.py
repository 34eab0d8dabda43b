"""Splice a few articles' passages into a saved index: the incremental refresh's work.

Windows never cross an article, so an article's postings are its own: removing one
drops the postings of its chunks, adding one inserts the postings of its new chunks.
Everything here is array operations; Python loops run over the changed articles or
over runs of unchanged chunks, never over all postings. `splice_index` makes the new
`Index`; the functions above it do the array work. May import corpus,
`retrieval.bm25`, `retrieval.text` and the index's build, columns, manifest, model
and workers (never refresh, which calls it).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from corpus.chunk import chunk_corpus
from corpus.models import Chunk
from retrieval.bm25 import Postings
from retrieval.index.build import (
    article_hash,
    chunk_key,
    harvest_local_names,
    same_passage,
    searchable_text,
    window_postings,
)
from retrieval.index.columns import ArticleTable, ChunkTable, TextColumn
from retrieval.index.manifest import Changes
from retrieval.index.model import Index
from retrieval.index.workers import tokens_of
from retrieval.text.tokenize import Tokenizer, fingerprint

IntArray = NDArray[np.int64]


@dataclass
class ChunkOrder:
    """Where each chunk of the new index comes from: a kept old chunk or an added one."""

    order: IntArray  # merged position -> index into (kept old chunks, then added chunks)
    kept: IntArray  # the old chunks kept, in their old order
    old_to_new: IntArray  # old chunk -> its new position, or -1 when removed
    added_to_new: IntArray  # added chunk -> its new position

    @property
    def size(self) -> int:
        """How many chunks the new index has."""
        return len(self.order)

    def take(self, old: NDArray[np.integer], added: NDArray[np.integer]) -> NDArray[np.int32]:
        """Lay out a per-chunk column in the new order from its old and added values."""
        merged: NDArray[np.int32] = np.concatenate(
            [old[self.kept], added]).astype(np.int32)[self.order]
        return merged


def chunk_order(old_articles: NDArray[np.int32], article_map: IntArray,
                added_articles: IntArray) -> ChunkOrder:
    """Order chunks by their new article position, kept chunks before added ones of an article.

    `old_articles`: each old chunk's article; `article_map`: old article -> new position
    or -1; `added_articles`: each added chunk's new article position, in chunk order.
    """
    new_of_old = article_map[old_articles] if len(old_articles) else np.empty(0, np.int64)
    kept = np.flatnonzero(new_of_old >= 0)
    combined = np.concatenate([new_of_old[kept], added_articles])
    order = np.argsort(combined, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    old_to_new = np.full(len(old_articles), -1, dtype=np.int64)
    old_to_new[kept] = position[: len(kept)]
    return ChunkOrder(order=order, kept=kept, old_to_new=old_to_new,
                      added_to_new=position[len(kept):])


def splice_texts(old: TextColumn, order: ChunkOrder, added: Sequence[str]) -> TextColumn:
    """Lay out the texts in the new order: runs of kept chunks are copied as byte ranges."""
    encoded = [text.encode("utf-8") for text in added]
    n_kept = len(order.kept)
    source = np.where(order.order < n_kept, order.kept[np.minimum(order.order, n_kept - 1)]
                      if n_kept else -1, -1)
    is_added = source < 0
    breaks = np.ones(len(source), dtype=bool)
    breaks[1:] = (source[1:] != source[:-1] + 1) | is_added[1:] | is_added[:-1]
    starts = np.flatnonzero(breaks)
    ends = np.append(starts[1:], len(source))
    pieces: list[bytes] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if is_added[start]:
            pieces.append(encoded[int(order.order[start]) - n_kept])
        else:
            first, last = int(source[start]), int(source[end - 1])
            pieces.append(old.blob[int(old.offsets[first]) : int(old.offsets[last + 1])])
    lengths = np.concatenate([np.diff(old.offsets)[order.kept],
                              np.asarray([len(e) for e in encoded], dtype=np.int64)])
    offsets = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(lengths[order.order], out=offsets[1:])
    return TextColumn(b"".join(pieces), offsets)


def splice_postings(old: Postings, order: ChunkOrder, added: Postings) -> Postings:
    """Drop the removed chunks' postings, renumber the rest and insert the added chunks' ones.

    `added` holds the added chunks' window postings, documents numbered in added order.
    Terms no document holds any more are dropped; new terms come after the old ones.
    """
    # int32 throughout: these arrays are as long as all the postings. `take`, not
    # `[]`: numpy 2 indexes with int32 ids four times slower than `take` gathers them.
    renumbered = order.old_to_new.astype(np.int32).take(old.doc_ids)
    dropped = np.flatnonzero(renumbered < 0)
    kept_counts = _kept_counts(dropped, old.indptr)
    term_ids = {term: i for i, term in enumerate(old.terms)}
    terms = list(old.terms)
    added_terms = np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in added.terms),
                              dtype=np.int64, count=len(added.terms))
    terms += list(term_ids)[len(terms):]
    counts = np.zeros(len(terms), dtype=np.int64)
    counts[: len(kept_counts)] = kept_counts
    term = np.repeat(added_terms, np.diff(added.indptr))
    doc = order.added_to_new[added.doc_ids]
    by_place = np.lexsort((doc, term))
    term, doc, tfs = term[by_place], doc[by_place], added.tfs[by_place]
    # Where each added posting goes among the old ones: before the first kept old posting
    # of its term whose new number is above its own (old numbers sort as the new ones).
    indptr_of_terms = np.concatenate(
        [old.indptr, np.full(len(terms) + 1 - len(old.indptr), old.indptr[-1])])
    at = _insert_positions(old.doc_ids, indptr_of_terms, term, _first_kept_after(order, doc))
    counts += np.bincount(term, minlength=len(terms))
    held = counts > 0
    indptr = np.zeros(int(held.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[held], out=indptr[1:])
    doc_len = order.take(old.doc_len, added.doc_len)
    doc_ids = splice_array(renumbered, dropped, at, doc.astype(np.int32))
    del renumbered
    return Postings(terms=[t for t, h in zip(terms, held.tolist(), strict=True) if h],
                    indptr=indptr, doc_ids=doc_ids,
                    tfs=splice_array(old.tfs, dropped, at, tfs.astype(np.int32)),
                    doc_len=doc_len)


def _kept_counts(dropped: IntArray, indptr: IntArray) -> IntArray:
    """Count each term's postings left once the `dropped` ones (positions) are gone."""
    term_of = np.searchsorted(indptr, dropped, side="right") - 1
    counts: IntArray = np.diff(indptr) - np.bincount(term_of, minlength=len(indptr) - 1)
    return counts


def _first_kept_after(order: ChunkOrder, new_docs: IntArray) -> IntArray:
    """The old number of the first kept chunk placed after each new position (or past all)."""
    placed = order.old_to_new[order.kept]
    after = np.append(order.kept, len(order.old_to_new))
    found: IntArray = after[np.searchsorted(placed, new_docs, side="right")]
    return found


def splice_array(values: NDArray[np.int32], dropped: IntArray, at: IntArray,
                  inserted: NDArray[np.int32]) -> NDArray[np.int32]:
    """`values` without the entries at `dropped`, `inserted[i]` placed before entry `at[i]`.

    Copied as runs between the cuts (one pass, no mask as long as the postings); the
    Python loop runs over the cuts, a few per changed chunk's term.
    """
    size = len(values)
    # Runs of consecutive dropped entries: [run_start, run_end).
    starts = np.flatnonzero(np.diff(dropped, prepend=-2) != 1)
    ends = np.append(starts[1:], len(dropped)) - 1
    run_start = dropped[starts]
    run_end = dropped[ends] + 1 if len(dropped) else run_start
    cuts = np.sort(np.concatenate([[0, size], run_start, run_end, at]))
    cuts = cuts[np.append(True, cuts[1:] != cuts[:-1])]
    # A stretch between two cuts is dropped whole when it starts inside a run.
    run = np.searchsorted(run_start, cuts, side="right") - 1
    skip = np.zeros(len(cuts), dtype=bool)
    inside = run >= 0
    skip[inside] = cuts[inside] < run_end[run[inside]]
    first = np.searchsorted(at, cuts, side="left")
    pieces = []
    for i, (low, high) in enumerate(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)):
        pieces.append(inserted[first[i] : first[i + 1]])
        if not skip[i]:
            pieces.append(values[low:high])
    pieces.append(inserted[first[-1] :])
    spliced: NDArray[np.int32] = np.concatenate(pieces).astype(np.int32, copy=False)
    return spliced


def _insert_positions(docs: NDArray[np.int32], indptr: IntArray, terms: IntArray,
                      new_docs: IntArray) -> IntArray:
    """Find where each (term, doc) goes in the term's sorted documents: a vectorised bisection."""
    low, high = indptr[terms].copy(), indptr[terms + 1].copy()
    while True:
        open_ = low < high
        if not open_.any():
            return low
        middle = (low + high) // 2
        before = open_ & (docs[np.where(open_, middle, 0)] < new_docs)
        low = np.where(before, middle + 1, low)
        high = np.where(open_ & ~before, middle, high)


def splice_index(previous: Index, changes: Changes, fresh: set[str],
            removed: list[str]) -> Index | None:
    """Splice: drop the removed and changed articles' passages, insert the fresh ones'.

    None when the fresh articles change the local names (then every text cuts anew).
    """
    gone = fresh | set(removed)
    content_keys = {ident: key for ident, key in previous.content_keys.items()
                    if ident not in gone}
    articles = [changes.read[ident] for ident in changes.ids if ident in fresh]
    local_names, names_by_content = harvest_local_names(articles, previous.names_by_content,
                                                        content_keys)
    if fingerprint(local_names) != previous.fingerprint:
        return None  # new or lost local names change how every text is cut: rebuild
    position = {ident: i for i, ident in enumerate(changes.ids)}
    article_map = np.fromiter(
        (position[i] if i in position and i not in fresh else -1 for i in previous.article_ids),
        dtype=np.int64, count=len(previous.article_ids))
    chunks = chunk_corpus(articles)
    tokenizer = Tokenizer(local_names)
    tokens: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    documents, searchable = [], []
    for chunk in chunks:
        key = chunk_key(chunk, tokenizer.fingerprint)
        if key not in tokens:
            tokens[key] = tokens_of(tokenizer, (chunk.text, chunk.title, chunk.section or ""))
            texts[key] = searchable_text(chunk)
        documents.append(tokens[key])
        searchable.append(texts[key])
    order = chunk_order(previous.chunks.article, article_map,
                        np.asarray([position[c.article_id] for c in chunks], dtype=np.int64))
    old_texts = (previous.searchable if isinstance(previous.searchable, TextColumn)
                 else TextColumn.from_texts(previous.searchable))
    char_df = _updated_char_df(previous.char_df, old_texts, order, searchable)
    pairs = previous.pair_counts().updated(
        (old_texts[i] for i in np.flatnonzero(order.old_to_new < 0).tolist()), searchable)
    table = _spliced_articles(previous, changes, fresh, article_map,
                              np.asarray([position[a.id] for a in articles], dtype=np.int64))
    hashes = {ident: previous.article_hashes[ident] if ident not in fresh
              else article_hash(changes.read[ident]) for ident in changes.ids}
    return Index(
        articles=table, chunks=_spliced_chunks(previous.chunks, order, table, article_map, chunks,
                                           position),
        postings=splice_postings(previous.postings, order,
                                 window_postings(documents, same_passage(chunks))),
        params=previous.params, local_names=local_names, article_hashes=hashes,
        names_by_content=names_by_content, fingerprint=previous.fingerprint, char_df=char_df,
        searchable=splice_texts(old_texts, order, searchable), tokens=tokens, texts=texts,
        stored_ids=list(changes.ids), content_keys=content_keys,
        cache_dir=previous.cache_dir, checksums=previous.checksums, pairs=pairs)


def _spliced_articles(previous: Index, changes: Changes, fresh: set[str],
                      article_map: NDArray[np.int64], added: NDArray[np.int64]) -> ArticleTable:
    """The articles' JSON lines in the new order: kept ones copied as byte runs."""
    old = previous.articles
    if not isinstance(old, ArticleTable):
        old = ArticleTable.from_lines([a.model_dump_json().encode("utf-8") for a in old])
    order = chunk_order(np.arange(len(article_map), dtype=np.int32), article_map, added)
    lines = [changes.read[ident].model_dump_json() + "\n" for ident in changes.ids
             if ident in fresh]
    spliced = splice_texts(old.lines, order, lines)
    return ArticleTable(spliced)


def _spliced_chunks(old: ChunkTable, order: ChunkOrder, articles: ArticleTable,
                    article_map: NDArray[np.int64], chunks: list[Chunk],
                    position: dict[str, int]) -> ChunkTable:
    """The chunk columns in the new order; the fresh chunks' headings join the old list."""
    sections = list(old.sections)
    heading = {name: i for i, name in enumerate(sections)}
    section = [-1 if c.section is None else heading.setdefault(c.section, len(heading))
               for c in chunks]
    sections += list(heading)[len(sections):]

    def column(values: list[int]) -> NDArray[np.int32]:
        return np.asarray(values, dtype=np.int32)

    return ChunkTable(
        articles, order.take(article_map[old.article],
                             column([position[c.article_id] for c in chunks])),
        order.take(old.ordinal, column([c.ordinal for c in chunks])),
        order.take(old.start, column([c.start for c in chunks])),
        order.take(old.end, column([c.end for c in chunks])),
        order.take(old.section, column(section)), sections)


def _updated_char_df(old: dict[str, int], texts: TextColumn, order: ChunkOrder,
                     added: list[str]) -> dict[str, int]:
    """The characters' chunk counts without the removed chunks, with the added ones."""
    counts = Counter(old)
    for i in np.flatnonzero(order.old_to_new < 0).tolist():
        counts.subtract(set(texts[i]))
    for text in added:
        counts.update(set(text))
    return {char: n for char, n in sorted(counts.items()) if n > 0}
