"""Build an index from articles: chunk, tokenise (on every core), count windows' postings.

Holds `build_index`, the hashes that decide what is reused (`article_hash`,
`chunk_key`), the local names' harvest and the passage windows' postings. May import
corpus, `retrieval.bm25`, `retrieval.text` and the index's own model, columns and workers.
"""

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from corpus.chunk import chunk_corpus
from corpus.models import Article, Chunk, CorpusError, is_staff_answer
from retrieval.bm25 import BM25Params, Postings
from retrieval.index.columns import ChunkTable
from retrieval.index.model import Index
from retrieval.index.workers import (
    Passage,
    harvest_all,
    searchable_of,
    tokenise_all,
    worker_count,
)
from retrieval.text.tokenize import fingerprint

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def article_hash(article: Article) -> str:
    """Hash an article's whole content (fields and text), its id included."""
    return hashlib.sha1(article.model_dump_json().encode("utf-8")).hexdigest()[:16]


def _content_hash(article: Article) -> str:
    text = "\n".join([article.title, *article.paragraphs])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def searchable_text(chunk: Chunk) -> str:
    """The chunk's title, section and text, normalised as questions are (text last)."""
    return searchable_of((chunk.text, chunk.title, chunk.section or ""))


def chunk_key(chunk: Chunk, fingerprint: str) -> str:
    """The token cache's key of a chunk: a hash of its texts and of the dictionaries."""
    text = "\x00".join([fingerprint, chunk.title, chunk.section or "", chunk.text])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def harvest_local_names(articles: Sequence[Article], cache: dict[str, list[str]],
           content_keys: dict[str, str],
           workers: int | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """Harvest local names article by article, reusing what unchanged texts gave before.

    `content_keys` (article id -> hash of its text) gains the articles given; the names
    are those of every text in it.
    """
    missing: dict[str, list[str]] = {}
    nameless: dict[str, list[str]] = {}
    for article in articles:
        key = content_keys[article.id] = _content_hash(article)
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


def build_index(articles: list[Article], *, params: BM25Params | None = None,
                previous: Index | None = None, progress: Progress | None = None,
                windows: bool = True, workers: int | None = None) -> Index:
    """Chunk and tokenise the articles (reusing `previous`'s cached tokens) and index them.

    Names are harvested and passages tokenised on every core when there are enough of
    them (`workers` sets the number of processes); the result is the same.
    `windows=False` indexes each chunk alone (only to measure what windows bring).
    """
    if not articles:
        raise CorpusError("no article to index: add .md or .txt files to the corpus folder")
    params = params or (previous.params if previous else BM25Params())
    content_keys: dict[str, str] = {}
    local_names, names_by_content = harvest_local_names(
        articles, previous.names_by_content if previous else {}, content_keys, workers)
    tokens_of = fingerprint(local_names)
    chunks = chunk_corpus(articles)
    cache = previous.tokens if previous else {}
    texts_cache = previous.texts if previous else {}
    keys = [chunk_key(chunk, tokens_of) for chunk in chunks]
    tokens: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    todo: dict[str, Passage] = {}
    for key, chunk in zip(keys, chunks, strict=True):
        if key in cache and key not in tokens:
            tokens[key] = cache[key]
            texts[key] = texts_cache.get(key) or searchable_text(chunk)
        elif key not in cache and key not in todo:
            todo[key] = (chunk.text, chunk.title, chunk.section or "")
    count = worker_count(len(todo), workers)
    logger.info("tokenising %d passages (%d from the cache) on %d process%s", len(todo),
                len(chunks) - len(todo), count, "" if count == 1 else "es")
    shown = [0]

    def show(n: int) -> None:
        if progress:
            shown[0] = n
            progress(n, len(todo))

    done = tokenise_all(list(todo.values()), tuple(local_names), count, show)
    if todo and shown[0] != len(todo):
        show(len(todo))  # the last line (a bar ends its line there) comes once
    for key, (passage_tokens, text) in zip(todo, done, strict=True):
        tokens[key], texts[key] = passage_tokens, text
    documents = [tokens[key] for key in keys]
    searchable = [texts[key] for key in keys]
    postings = (window_postings(documents, same_passage(chunks)) if windows
                else Postings.build(documents))
    return Index(articles=articles, chunks=ChunkTable.from_chunks(articles, chunks),
                 postings=postings,
                 char_df=_char_doc_freq(searchable), searchable=searchable,
                 params=params, local_names=local_names,
                 article_hashes={a.id: article_hash(a) for a in articles},
                 names_by_content=names_by_content, fingerprint=tokens_of,
                 tokens=tokens, texts=texts, content_keys=content_keys)


def window_postings(documents: Sequence[list[str]], joined: Sequence[bool]) -> Postings:
    """Count the terms of each chunk's window (see `window_documents`) with array operations.

    Equal to `Postings.build(window_documents(...))` up to the order of the terms.
    """
    vocabulary: dict[str, int] = {}
    lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
    terms = np.fromiter((vocabulary.setdefault(t, len(vocabulary))
                         for document in documents for t in document),
                        dtype=np.int64, count=int(lengths.sum()))
    n = len(documents)
    chunk = np.repeat(np.arange(n, dtype=np.int64), lengths)
    linked = np.asarray(joined, dtype=bool)  # linked[i]: chunk i continues chunk i - 1
    # A chunk's tokens count in its own window, the next one's (if it continues this one)
    # and the previous one's (if this one continues it).
    forward = linked[np.minimum(chunk + 1, n - 1)] & (chunk + 1 < n)
    backward = linked[chunk]
    docs = np.concatenate([chunk, chunk[forward] + 1, chunk[backward] - 1])
    words = np.concatenate([terms, terms[forward], terms[backward]])
    pairs, tfs = np.unique(words * max(n, 1) + docs, return_counts=True)
    term_of_pair = pairs // max(n, 1)
    indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of_pair, minlength=len(vocabulary)), out=indptr[1:])
    doc_len = lengths.copy()
    doc_len[1:] += np.where(linked[1:], lengths[:-1], 0)
    doc_len[:-1] += np.where(linked[1:], lengths[1:], 0)
    return Postings(terms=list(vocabulary), indptr=indptr,
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


def _char_doc_freq(texts: list[str]) -> dict[str, int]:
    """Count the chunks each character appears in (the IDF of words the index has no term for)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(text))
    return dict(sorted(counts.items()))  # in one order, however built (sets have none)
