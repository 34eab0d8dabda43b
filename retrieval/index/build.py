"""Build the index: chunk, tokenise and count postings, in batches of bounded size.

`build_index` builds in memory (tests, benchmarks, a small corpus); `build_into` builds
an archive into its folder a batch at a time, each batch tokenised on every core and
written as a segment, then merges the segments into one (streaming, see
`retrieval/merge.py`): the build's memory depends on the batch, not on the archive.
May import corpus, `retrieval.bm25`, `retrieval.text` and the index's columns,
merge, model, segment, store and workers.
"""

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from corpus.chunk import chunk_article
from corpus.models import Article, Chunk, CorpusError, is_staff_answer
from retrieval.bm25 import BM25Params, Postings
from retrieval.index.columns import ChunkTable
from retrieval.index.merge import merge_segments
from retrieval.index.model import Index
from retrieval.index.segment import Segment
from retrieval.index.store import STAGING, free_segment_number, segment_name
from retrieval.index.workers import Passage, TokenPool, harvest_all, searchable_of, worker_count
from retrieval.text.pairs import PairCounts
from retrieval.text.tokenize import fingerprint

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
BATCH_PASSAGES = 20_000  # passages tokenised and written as one segment of a build


def article_hash(article: Article) -> str:
    """Hash an article's whole content (fields and text), its id included."""
    return hashlib.sha1(article.model_dump_json().encode("utf-8")).hexdigest()[:16]


def content_hash(article: Article) -> str:
    """Hash an article's title and paragraphs (what its local names come from)."""
    text = "\n".join([article.title, *article.paragraphs])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def searchable_text(chunk: Chunk) -> str:
    """The chunk's title, section and text, normalised as questions are (text last)."""
    return searchable_of((chunk.text, chunk.title, chunk.section or ""))


def chunk_key(chunk: Chunk, tokens_of: str) -> str:
    """The token cache's key of a chunk: its texts and the tokenizer's fingerprint."""
    text = "\x00".join([tokens_of, chunk.title, chunk.section or "", chunk.text])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def harvest(articles: Sequence[Article], cache: dict[str, list[str]],
            content_keys: dict[str, str],
            workers: int | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """Harvest local names article by article, reusing what unchanged texts gave before.

    `content_keys` (article id -> hash of its text) gains the articles given; the names
    are those of every text in it.
    """
    missing: dict[str, list[str]] = {}
    nameless: dict[str, list[str]] = {}
    for article in articles:
        key = content_keys[article.id] = content_hash(article)
        if is_staff_answer(article.id):
            # A staff answer gives no local names: saving one never re-cuts the whole archive
            # (new names would rebuild every passage), so it is spliced in within seconds.
            nameless[key] = []
        elif key not in cache and key not in missing:
            missing[key] = [article.title, *article.paragraphs]
    texts = list(missing.values())
    harvested = harvest_all(texts, worker_count(sum(len(t) for t in texts), workers)) \
        if texts else []
    by_content = dict(zip(missing, harvested, strict=True)) | nameless
    by_content.update({key: cache[key] for key in set(content_keys.values())
                       if key not in by_content})
    return sorted({n for names in by_content.values() for n in names}), by_content


def sorted_terms(postings: Postings) -> Postings:
    """The same postings with the terms in sorted order (what segments and merges expect)."""
    order = sorted(range(len(postings.terms)), key=postings.terms.__getitem__)
    if order == list(range(len(order))):
        return postings
    counts = np.diff(postings.indptr)[order]
    starts = postings.indptr[:-1][order]
    take = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    indptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Postings(terms=[postings.terms[i] for i in order], indptr=indptr,
                    doc_ids=postings.doc_ids[take], tfs=postings.tfs[take],
                    doc_len=postings.doc_len)


def window_postings(documents: Sequence[list[str]], joined: Sequence[bool]) -> Postings:
    """Count the terms of each chunk's window (see `window_documents`) with array operations.

    Equal to `Postings.build(window_documents(...))` with the terms sorted.
    """
    vocabulary: dict[str, int] = {}
    lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
    terms = np.fromiter((vocabulary.setdefault(t, len(vocabulary))
                         for document in documents for t in document),
                        dtype=np.int64, count=int(lengths.sum()))
    words = list(vocabulary)
    rank = np.empty(len(words), dtype=np.int64)
    rank[sorted(range(len(words)), key=words.__getitem__)] = np.arange(len(words))
    terms = rank[terms] if len(terms) else terms
    n = len(documents)
    chunk = np.repeat(np.arange(n, dtype=np.int64), lengths)
    linked = np.asarray(joined, dtype=bool)  # linked[i]: chunk i continues chunk i - 1
    # A chunk's tokens count in its own window, the next one's (if it continues this one)
    # and the previous one's (if this one continues it).
    forward = linked[np.minimum(chunk + 1, n - 1)] & (chunk + 1 < n)
    backward = linked[chunk]
    docs = np.concatenate([chunk, chunk[forward] + 1, chunk[backward] - 1])
    every = np.concatenate([terms, terms[forward], terms[backward]])
    pairs, tfs = np.unique(every * max(n, 1) + docs, return_counts=True)
    term_of_pair = pairs // max(n, 1)
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of_pair, minlength=len(vocabulary)), out=indptr[1:])
    doc_len = lengths.copy()
    doc_len[1:] += np.where(linked[1:], lengths[:-1], 0)
    doc_len[:-1] += np.where(linked[1:], lengths[1:], 0)
    return Postings(terms=sorted(words), indptr=indptr,
                    doc_ids=(pairs % max(n, 1)).astype(np.int32), tfs=tfs.astype(np.int32),
                    doc_len=doc_len.astype(np.int32))


def same_passage(chunks: Sequence[Chunk]) -> list[bool]:
    """Tell for each chunk whether it continues the one before (same article and section)."""
    return [i > 0 and (chunks[i - 1].article_id, chunks[i - 1].section)
            == (chunk.article_id, chunk.section) for i, chunk in enumerate(chunks)]


def window_documents(chunks: Sequence[Chunk],
                     documents: Sequence[list[str]]) -> list[list[str]]:
    """Give each chunk its neighbours' tokens too: BM25 scores the passage in its context.

    An answer often continues into the next passage, and a question's words are spread
    over a few sentences; scoring the window finds it, while the reply shows the chunk.
    """
    joined = same_passage(chunks)
    windows = []
    for i, tokens in enumerate(documents):
        window = list(tokens)
        if joined[i]:
            window += documents[i - 1]
        if i + 1 < len(documents) and joined[i + 1]:
            window += documents[i + 1]
        windows.append(window)
    return windows


def char_doc_freq(texts: Sequence[str]) -> dict[str, int]:
    """Count the chunks each character appears in (the IDF of words the index has no term for)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(text))
    return dict(sorted(counts.items()))  # in one order, however built (sets have none)


class TokenSource:
    """The tokens a previous index saved, by cache key (only if its dictionaries were these)."""

    def __init__(self, previous: Index | None, tokens_of: str) -> None:
        usable = previous is not None and previous.fingerprint == tokens_of
        self.previous = previous if usable else None
        self.where = previous.token_lookup() if previous is not None and usable else {}

    def get(self, key: str) -> tuple[list[str], str] | None:
        """The saved tokens and normalised text of a passage, if saved."""
        where = self.where.get(key)
        if where is None or self.previous is None:
            return None
        return self.previous.saved_tokens(where)


def tokenised_segment(articles: list[Article], chunks: list[Chunk], tokens_of: str,
                      source: TokenSource, pool: TokenPool,
                      progress: Callable[[int, int], None] | None = None,
                      windows: bool = True) -> Segment:
    """Tokenise the chunks (the saved tokens of unchanged ones reused) as one segment."""
    keys = [chunk_key(chunk, tokens_of) for chunk in chunks]
    tokens: dict[str, tuple[list[str], str]] = {}
    todo: dict[str, Passage] = {}
    for key, chunk in zip(keys, chunks, strict=True):
        if key in tokens or key in todo:
            continue
        saved = source.get(key)
        if saved is not None:
            tokens[key] = saved
        else:
            todo[key] = (chunk.text, chunk.title, chunk.section or "")
    done = pool.tokenise(list(todo.values()),
                         (lambda n: progress(n, len(todo))) if progress else None)
    tokens.update(zip(todo, done, strict=True))
    documents = [tokens[key][0] for key in keys]
    searchable = [tokens[key][1] for key in keys]
    postings = (window_postings(documents, same_passage(chunks)) if windows
                else sorted_terms(Postings.build(documents)))
    return Segment(articles=articles, article_ids=[a.id for a in articles],
                   chunks=ChunkTable.from_chunks(articles, chunks), postings=postings,
                   searchable=searchable, char_df=char_doc_freq(searchable), token_keys=keys,
                   tokens=[json.dumps(d, ensure_ascii=False) for d in documents],
                   pairs=PairCounts.from_texts(searchable))


def build_index(articles: list[Article], *, params: BM25Params | None = None,
                previous: Index | None = None, progress: Progress | None = None,
                windows: bool = True, workers: int | None = None) -> Index:
    """Chunk and tokenise the articles (reusing `previous`'s saved tokens) into one segment.

    In memory: for tests, benchmarks and small corpora (`build_into` bounds the memory).
    `windows=False` indexes each chunk alone (only to measure what windows bring).
    """
    if not articles:
        raise CorpusError("no article to index: add .md or .txt files to the corpus folder")
    params = params or (previous.params if previous else BM25Params())
    content_keys: dict[str, str] = {}
    local_names, names_by_content = harvest(
        articles, previous.names_by_content if previous else {}, content_keys, workers)
    tokens_of = fingerprint(local_names)
    chunks = [chunk for article in articles for chunk in chunk_article(article)]
    source = TokenSource(previous, tokens_of)
    count = worker_count(len(chunks), workers)
    shown = [0, 0]

    def show(done: int, total: int) -> None:
        if progress:
            shown[:] = [done, total]
            progress(done, total)

    with TokenPool(tuple(local_names), count) as pool:
        segment = tokenised_segment(articles, chunks, tokens_of, source, pool, show, windows)
    if progress and shown[0] != shown[1]:
        progress(shown[1], shown[1])
    return Index(segments=[segment], params=params, local_names=local_names,
                 article_hashes={a.id: article_hash(a) for a in articles},
                 names_by_content=names_by_content, fingerprint=tokens_of,
                 content_keys=content_keys)


def _batches(articles: Sequence[Article],
             size: int) -> Iterator[tuple[list[Article], list[Chunk]]]:
    """Cut the articles into batches of about `size` passages, chunked."""
    batch: list[Article] = []
    chunks: list[Chunk] = []
    for article in articles:
        batch.append(article)
        chunks.extend(chunk_article(article))
        if len(chunks) >= size:
            yield batch, chunks
            batch, chunks = [], []
    if batch:
        yield batch, chunks


def build_into(articles: list[Article], directory: Path, *, params: BM25Params,
               previous: Index | None = None, progress: Progress | None = None,
               workers: int | None = None, batch: int = BATCH_PASSAGES) -> Index:
    """Build the index into `directory` a batch at a time; return it (not yet in the manifest).

    Each batch is tokenised on every core and written as a segment; the segments are
    then merged into one. The folders are named by no manifest until `save_index`.
    """
    if not articles:
        raise CorpusError("no article to index: add .md or .txt files to the corpus folder")
    directory.mkdir(parents=True, exist_ok=True)
    content_keys: dict[str, str] = {}
    local_names, names_by_content = harvest(
        articles, previous.names_by_content if previous else {}, content_keys, workers)
    tokens_of = fingerprint(local_names)
    source = TokenSource(previous, tokens_of)
    count = worker_count(len(articles), workers)
    parts: list[Segment] = []
    staged: list[Path] = []
    done, seen = 0, 0
    try:
        with TokenPool(tuple(local_names), count) as pool:
            for articles_batch, chunks in _batches(articles, batch):
                seen += len(articles_batch)
                # The total is an estimate until the last batch: passages per article so far.
                estimate = max(round((done + len(chunks)) * len(articles) / seen), 1)

                def show(n: int, _: int, base: int = done, total: int = estimate) -> None:
                    if progress:
                        progress(base + n, total)

                segment = tokenised_segment(articles_batch, chunks, tokens_of, source, pool,
                                            show)
                done += len(chunks)
                folder = directory / f"{STAGING}build-{os.getpid()}-{len(staged)}"
                shutil.rmtree(folder, ignore_errors=True)
                staged.append(folder)
                parts.append(Segment.load(folder, segment.save(folder)))
                del segment
        if progress:
            progress(done, done)
        final_folder = staged[0]
        if len(parts) > 1:
            final_folder = directory / f"{STAGING}build-{os.getpid()}-merged"
            shutil.rmtree(final_folder, ignore_errors=True)
            staged.append(final_folder)
            logger.info("merging %d segments of %d passages", len(parts), done)
            checksums = merge_segments(parts, final_folder)
            parts = [Segment.load(final_folder, checksums)]
        number = free_segment_number(directory)
        os.replace(final_folder, directory / segment_name(number))
        staged.remove(final_folder)
        merged = parts[0]
        merged.name = segment_name(number)
    finally:
        for folder in staged:
            shutil.rmtree(folder, ignore_errors=True)
    return Index(segments=[merged], params=params, local_names=local_names,
                 article_hashes={a.id: article_hash(a) for a in articles},
                 names_by_content=names_by_content, fingerprint=tokens_of,
                 content_keys=content_keys, folder=directory, next_segment=number + 1)
