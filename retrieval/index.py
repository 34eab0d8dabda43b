"""The saved index: chunks, their tokens and BM25 postings, rebuilt only where the corpus changed.

On disk (a folder, format `FORMAT_VERSION`, never pickle): `manifest.json`
(written last, with checksums of the files read on demand), `articles.jsonl` and
`article_ids.json`, `chunks.npz` with `sections.json`, `searchable.bin` with
`searchable.npz`, `vocab.json`, `char_df.json`, `postings.npz` and `scores.npz`
(the .npz files loaded with `allow_pickle=False`), and `tokens.jsonl`, the
per-chunk token cache keyed by a hash of the chunk's text and of the dictionaries.
"""

import hashlib
import io
import json
import logging
import mmap
import os
import re
import shutil
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from corpus.chunk import chunk_corpus
from corpus.load import check_corpus_dir, load_corpus
from corpus.models import Article, Chunk, CorpusError, Problem
from retrieval.bm25 import BM25, BM25Params, Postings
from retrieval.collector import collection_paused
from retrieval.columns import (
    ArticleTable,
    ChunkTable,
    TextColumn,
    map_array,
    map_bytes,
)
from retrieval.manifest import (
    MANIFEST_NAME,
    CachedReader,
    Changes,
    CorpusManifest,
    Listing,
    all_unchanged,
    listing,
    scan_changes,
    settle,
)
from retrieval.splice import ChunkOrder, chunk_order, splice_postings, splice_texts
from retrieval.tokenize import Tokenizer, fingerprint
from retrieval.workers import (
    Passage,
    harvest_all,
    searchable_of,
    tokenise_all,
    worker_count,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 11
HASH_WINDOW = 16 * 2**20
POSTINGS = ("indptr", "doc_ids", "tfs", "doc_len")
Progress = Callable[[int, int], None]
SHOWN_NAMES = 10  # reports name this many added / changed / removed articles, then count


class IndexFileError(Exception):
    """The saved index is missing, corrupt or from another format: it must be rebuilt."""


def article_hash(article: Article) -> str:
    """Hash an article's whole content (fields and text), its id included."""
    return hashlib.sha1(article.model_dump_json().encode("utf-8")).hexdigest()[:16]


def _content_hash(article: Article) -> str:
    text = "\n".join([article.title, *article.paragraphs])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def searchable_text(chunk: Chunk) -> str:
    """The chunk's title, section and text, normalised as questions are (text last)."""
    return searchable_of((chunk.text, chunk.title, chunk.section or ""))


def _chunk_key(chunk: Chunk, fingerprint: str) -> str:
    text = "\x00".join([fingerprint, chunk.title, chunk.section or "", chunk.text])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Index:
    """Everything search needs, in memory."""

    articles: Sequence[Article]
    chunks: ChunkTable
    postings: Postings
    params: BM25Params
    local_names: list[str]
    article_hashes: dict[str, str]
    names_by_content: dict[str, list[str]]
    fingerprint: str
    char_df: dict[str, int]
    searchable: Sequence[str]
    tokens: dict[str, list[str]] = field(default_factory=dict, repr=False)
    texts: dict[str, str] = field(default_factory=dict, repr=False)
    stored_ids: list[str] | None = field(default=None, repr=False)
    stamp: str = ""
    content_keys: dict[str, str] = field(default_factory=dict, repr=False)  # id -> text hash
    # The saved folder whose token files hold the rest of the cache (`tokens` holds new ones).
    cache_dir: Path | None = None
    checksums: dict[str, str] = field(default_factory=dict, repr=False)
    corpus: CorpusManifest | None = field(default=None, repr=False)  # as saved beside it

    @property
    def article_ids(self) -> list[str]:
        """The articles' ids, in index order (read from disk: no article is parsed for them)."""
        if self.stored_ids is None:
            self.stored_ids = [a.id for a in self.articles]
        return self.stored_ids

    def bm25(self) -> BM25:
        """Return the scorer over this index's postings (weights computed as read)."""
        return BM25(self.postings, self.params)

    def save(self, directory: Path) -> None:
        """Write the index to `directory` atomically: a crash leaves the old one whole."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".index-", dir=directory.parent))
        try:
            self._write(staging)
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.replace(directory, old)
            os.replace(staging, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._settle(directory)

    def _settle(self, directory: Path) -> None:
        """Hold the saved forms from now on: the token cache stays on disk, not in memory."""
        self.cache_dir = directory
        self.tokens, self.texts = {}, {}

    def _write(self, folder: Path) -> None:
        if not isinstance(self.articles, ArticleTable):
            self.articles = ArticleTable.from_lines([a.model_dump_json().encode("utf-8")
                                                     for a in self.articles])
            self.chunks.articles = self.articles
        if not isinstance(self.searchable, TextColumn):
            self.searchable = TextColumn.from_texts(self.searchable)
        known: dict[str, str] = {}  # file name -> checksum, of the files written from memory
        for name, column in (("articles", self.articles.lines), ("searchable", self.searchable)):
            blob_name = f"{name}.{'jsonl' if name == 'articles' else 'bin'}"
            known[blob_name] = _write_bytes(folder / blob_name, column.blob)
            known[f"{name}.npy"] = _save_array(folder / f"{name}.npy", column.offsets)
        known["article_ids.json"] = _write_json(folder / "article_ids.json", self.article_ids)
        self.chunks.save(folder)
        known["vocab.json"] = _write_json(folder / "vocab.json", self.postings.terms)
        for name in POSTINGS:
            known[f"postings.{name}.npy"] = _save_array(folder / f"postings.{name}.npy",
                                                        getattr(self.postings, name))
        known["char_df.json"] = _write_json(folder / "char_df.json", self.char_df)
        name = "tokens.jsonl"
        if self.cache_dir is not None:  # the cache so far stays; the new tokens go beside it
            for old in _token_files(self.cache_dir):
                try:
                    os.link(old, folder / old.name)
                except OSError:  # a file system without hard links
                    shutil.copyfile(old, folder / old.name)
                known[old.name] = self.checksums[old.name]
            name = f"tokens.{len(known)}.jsonl"
        if self.tokens or self.cache_dir is None:
            with (folder / name).open("w", encoding="utf-8") as out:
                for key, tokens in self.tokens.items():
                    entry = {"key": key, "tokens": tokens, "text": self.texts.get(key)}
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.stamp = repr(time.time())
        # Every file's checksum: an edit, even of the same size, is found at load.
        self.checksums = {path.name: known.get(path.name) or _file_checksum(path)
                          for path in sorted(folder.iterdir())}
        manifest = {
            "format": FORMAT_VERSION, "created": self.stamp, "params": asdict(self.params),
            "fingerprint": self.fingerprint, "local_names": self.local_names,
            "article_hashes": self.article_hashes, "names_by_content": self.names_by_content,
            "content_keys": self.content_keys, "chunks": len(self.chunks),
            "checksums": self.checksums,
        }
        # The manifest goes last: a folder without one was never finished.
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False),
                                              encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "Index":
        """Load a saved index; raise `IndexFileError` if it cannot be trusted.

        Its arrays and texts are mapped, not read: a page is read when a search touches it.
        """
        manifest_path = directory / "manifest.json"
        if not manifest_path.exists():
            raise IndexFileError(f"{directory}: no saved index")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexFileError(f"{directory}: index format {manifest.get('format')} is not "
                                     f"the current {FORMAT_VERSION}")
            _check_files(directory, manifest["checksums"])
            postings = Postings(terms=_read_json(directory / "vocab.json"), **{
                name: map_array(directory / f"postings.{name}.npy") for name in POSTINGS})
            articles = ArticleTable(TextColumn(map_bytes(directory / "articles.jsonl"),
                                               map_array(directory / "articles.npy")))
            searchable = TextColumn(map_bytes(directory / "searchable.bin"),
                                    map_array(directory / "searchable.npy"))
            index = cls(
                articles=articles, chunks=ChunkTable.load(directory, articles),
                postings=postings, params=BM25Params(**manifest["params"]),
                local_names=list(manifest["local_names"]),
                article_hashes=dict(manifest["article_hashes"]),
                names_by_content=dict(manifest["names_by_content"]),
                fingerprint=str(manifest["fingerprint"]),
                char_df=_read_json(directory / "char_df.json"), searchable=searchable,
                stored_ids=[str(i) for i in _read_json(directory / "article_ids.json")],
                stamp=str(manifest["created"]), content_keys=dict(manifest["content_keys"]),
                cache_dir=directory, checksums=dict(manifest["checksums"]))
        except IndexFileError:
            raise
        except (OSError, ValueError, KeyError, TypeError, EOFError) as err:
            raise IndexFileError(f"{directory}: saved index is corrupt ({err})") from None
        index._check_shapes(directory)
        return index

    def _check_shapes(self, directory: Path) -> None:
        p = self.postings
        consistent = (
            len(p.doc_len) == len(self.chunks) == len(self.searchable)
            and len(self.articles) == len(self.article_ids)
            and len(p.indptr) == len(p.terms) + 1
            and len(p.doc_ids) == len(p.tfs) == int(p.indptr[-1])
        )
        if not consistent:
            raise IndexFileError(f"{directory}: saved index is corrupt (sizes do not agree)")

    def load_token_cache(self, directory: Path) -> None:
        """Read the saved per-chunk tokens, the cache a rebuild starts from."""
        try:
            for path in _token_files(directory):
                with path.open(encoding="utf-8") as lines:
                    for line in lines:
                        entry = json.loads(line)
                        self.tokens[entry["key"]] = entry["tokens"]
                        if entry.get("text") is not None:
                            self.texts[entry["key"]] = entry["text"]
        except (OSError, ValueError, KeyError) as err:
            logger.warning("token cache unreadable, re-tokenising everything: %s", err)
            self.tokens.clear()
            self.texts.clear()


def _names(articles: Sequence[Article], cache: dict[str, list[str]],
           content_keys: dict[str, str],
           workers: int | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """Harvest local names article by article, reusing what unchanged texts gave before.

    `content_keys` (article id -> hash of its text) gains the articles given; the names
    are those of every text in it.
    """
    missing: dict[str, list[str]] = {}
    for article in articles:
        key = content_keys[article.id] = _content_hash(article)
        if key not in cache and key not in missing:
            missing[key] = [article.title, *article.paragraphs]
    texts = list(missing.values())
    harvested = harvest_all(texts, worker_count(sum(len(t) for t in texts), workers)) \
        if texts else []
    by_content = dict(zip(missing, harvested, strict=True))
    by_content.update({key: cache[key] for key in set(content_keys.values())
                       if key not in by_content})
    return sorted({n for names in by_content.values() for n in names}), by_content


def _token_files(folder: Path) -> list[Path]:
    """The token cache's files: `tokens.jsonl` and what incremental saves added beside it."""
    return sorted(folder.glob("tokens*.jsonl"))


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
    local_names, names_by_content = _names(
        articles, previous.names_by_content if previous else {}, content_keys, workers)
    tokens_of = fingerprint(local_names)
    chunks = chunk_corpus(articles)
    cache = previous.tokens if previous else {}
    texts_cache = previous.texts if previous else {}
    keys = [_chunk_key(chunk, tokens_of) for chunk in chunks]
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


def _write_json(path: Path, value: object) -> str:
    """Write `value` as JSON; return the file's checksum."""
    return _write_bytes(path, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _write_bytes(path: Path, data: "bytes | mmap.mmap") -> str:
    """Write `data`; return the file's checksum (as `_file_checksum` gives), from memory.

    Reading back the file just written would fault in every page of it once more.
    """
    with path.open("wb") as out:
        out.write(data)
    return f"{len(data)}:{zlib.crc32(data):08x}"


def _save_array(path: Path, array: NDArray[Any]) -> str:
    """Write one array as np.save does (no pickle); return the file's checksum, from memory."""
    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    data = array.data.cast("B") if array.size else memoryview(b"")
    with path.open("wb") as out:
        out.write(header.getvalue())
        out.write(data)
    crc = zlib.crc32(data, zlib.crc32(header.getvalue()))
    return f"{len(header.getvalue()) + len(data)}:{crc:08x}"


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _file_checksum(path: Path) -> str:
    """Checksum a file (size and CRC-32) through a sliding window of mapped pages.

    The window keeps the pages from all counting as this process's at once. CRC-32
    finds truncation, bit flips and swapped bytes (what corrupts a file by accident)
    at three times the speed of SHA-256, which a start-up over 300 MB feels.
    """
    crc = 0
    with path.open("rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        for offset in range(0, size, HASH_WINDOW):
            with mmap.mmap(raw.fileno(), min(HASH_WINDOW, size - offset), offset=offset,
                           access=mmap.ACCESS_READ) as window:
                crc = zlib.crc32(window, crc)
    return f"{size}:{crc:08x}"


def _check_files(directory: Path, checksums: dict[str, str]) -> None:
    """Check every saved file against the manifest before any is used."""
    # The corpus manifest checks itself: it is rewritten without rewriting the index.
    present = {path.name for path in directory.iterdir()} - {"manifest.json", MANIFEST_NAME}
    if present != set(checksums):
        raise IndexFileError(f"{directory}: saved index is corrupt (files differ from the "
                             f"manifest: {', '.join(sorted(present ^ set(checksums)))})")
    for name in sorted(present):
        if _file_checksum(directory / name) != checksums[name]:
            raise IndexFileError(f"{directory / name}: saved index is corrupt (checksum differs)")


def remove_leftovers(parent: Path) -> list[Path]:
    """Tidy what an interrupted save left beside the indexes; return the folders found."""
    if not parent.is_dir():
        return []
    left = [p for p in parent.iterdir()
            if p.is_dir() and (p.name.startswith(".index-") or p.name.endswith(".old"))]
    for path in left:
        current = path.with_name(path.name.removesuffix(".old"))
        if path.name.endswith(".old") and not current.exists():  # killed between two renames
            os.replace(path, current)
            logger.warning("restored %s, set aside by an interrupted index save", current)
            continue
        shutil.rmtree(path, ignore_errors=True)
        logger.warning("removed %s, left over by an interrupted index save", path)
    return left


def _char_doc_freq(texts: list[str]) -> dict[str, int]:
    """Count the chunks each character appears in (the IDF of words the index has no term for)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(text))
    return dict(sorted(counts.items()))  # in one order, however built (sets have none)


@dataclass
class RefreshReport:
    """What `refresh_index` did: for the CLI's and /reload's report."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks: int = 0
    articles: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    spliced: bool = False  # only the changed articles' passages were tokenised and spliced
    reason: str = ""
    pending: Callable[[], None] | None = None  # saves the index (with `defer_save`)
    problems: list[Problem] = field(default_factory=list)


def _diff(old: dict[str, str], new: dict[str, str], report: RefreshReport) -> None:
    report.added = sorted(set(new) - set(old))
    report.removed = sorted(set(old) - set(new))
    report.changed = sorted(i for i in set(new) & set(old) if new[i] != old[i])


def _kept(problems: list[Problem], loaded: set[str],
          old_ids: Sequence[str]) -> list[tuple[str, Problem]]:
    """Name the articles whose file is now broken but whose last good version is indexed."""
    old = set(old_ids)
    kept = []
    for problem in problems:
        ident = problem.path.rsplit(".", 1)[0]
        if problem.level == "error" and ident in old and ident not in loaded:
            loaded.add(ident)
            kept.append((ident, Problem(path=problem.path, line=None, level="warning",
                                        message="the last good version stays in the index",
                                        fix="fix the error above, then reload")))
    return kept


def _keep_broken(articles: list[Article], problems: list[Problem],
                 previous: Index | None) -> list[Problem]:
    """Keep the last good version of articles whose file is now broken: an edit loses nothing."""
    if previous is None:
        return []
    position = {ident: i for i, ident in enumerate(previous.article_ids)}
    kept = _kept(problems, {a.id for a in articles}, previous.article_ids)
    articles.extend(previous.articles[position[ident]] for ident, _ in kept)
    return [note for _, note in kept]


def _saved_article(index: Index | None) -> Callable[[str], Article | None]:
    """Look an article up by id in the saved index (parsed only when asked for)."""
    position = {ident: i for i, ident in enumerate(index.article_ids)} if index else {}

    def saved(ident: str) -> Article | None:
        return index.articles[position[ident]] if index and ident in position else None

    return saved


def _current(previous: Index, wanted: BM25Params) -> bool:
    return (previous.params == wanted
            and fingerprint(previous.local_names) == previous.fingerprint)


def _saved_stamp(index_dir: Path) -> str | None:
    """The stamp of the index saved in `index_dir` (None if there is none readable)."""
    try:
        with (index_dir / "manifest.json").open(encoding="utf-8") as manifest:
            head = manifest.read(200)  # written first: no need to parse the whole manifest
    except OSError:
        return None
    found = re.match(r'\{"format": (\d+), "created": "([^"]+)"', head)
    return found.group(2) if found and int(found.group(1)) == FORMAT_VERSION else None


def _load_previous(index_dir: Path, keep_from: Index | None,
                   report: "RefreshReport") -> Index | None:
    """The index saved in `index_dir`: the one in service if it is that one, else loaded."""
    if keep_from is not None and keep_from.stamp and keep_from.stamp == _saved_stamp(index_dir):
        return keep_from
    try:
        return Index.load(index_dir)
    except IndexFileError as err:
        report.reason = str(err)
        if index_dir.exists():
            logger.warning("%s; rebuilding", err)
        return None


def refresh_index(corpus_dir: Path, index_dir: Path, *, params: BM25Params | None = None,
                  progress: Progress | None = None, force: bool = False,
                  keep_from: Index | None = None,
                  defer_save: bool = False) -> tuple[Index, RefreshReport]:
    """Load the saved index if it matches the corpus; otherwise update it, save and report.

    Only files whose size or time changed since the last scan are read (see
    `retrieval/manifest.py`), and only their articles' passages are tokenised and
    spliced into the saved arrays (see `retrieval/splice.py`); a full rebuild is left
    for what splicing cannot reproduce exactly (new local names, a broken file whose
    last good version stays, two files for one id). A file that no longer loads keeps
    its last good version (from `keep_from`, the index in service, or else the saved
    one), so a bad edit never removes an article.

    `defer_save`: a spliced index is returned unsaved, `report.pending` saves it (the
    bot serves the new index first, then saves it).
    """
    # A refresh reads and drops tens of thousands of small objects (the manifests, the
    # ids); the collector would walk them many times over for next to no cycle (0.3 s of
    # a linli index after one change at 33,000 articles).
    with collection_paused():
        return _refresh(corpus_dir, index_dir, params=params, progress=progress, force=force,
                        keep_from=keep_from, defer_save=defer_save)


def _refresh(corpus_dir: Path, index_dir: Path, *, params: BM25Params | None,
             progress: Progress | None, force: bool, keep_from: Index | None,
             defer_save: bool) -> tuple[Index, RefreshReport]:
    """Refresh as `refresh_index` says (the collector paused)."""
    started = time.perf_counter()
    check_corpus_dir(corpus_dir)
    report = RefreshReport()
    previous = _load_previous(index_dir, keep_from, report)
    wanted = params or BM25Params()
    manifest = _corpus_manifest(index_dir, previous)
    files = listing(corpus_dir)
    settled = None
    if previous is not None and not force and _current(previous, wanted):
        settled = manifest if all_unchanged(manifest, files) else settle(manifest, files)
        if settled is None:
            spliced = _refresh_in_place(previous, manifest, files, index_dir, report,
                                        defer_save)
            if spliced is not None:
                report.seconds = time.perf_counter() - started
                return spliced, report
    if previous is not None and settled is not None:
        if settled is not manifest:
            settled.save(index_dir)  # the touched files need no hash at the next start
        previous.corpus = settled
        report.problems = manifest.problems([shown for _, shown, _ in files])
        report.problems += [note for _, note in _kept(report.problems, manifest.loaded_ids(),
                                                      previous.article_ids)]
        report.articles, report.chunks = len(previous.articles), len(previous.chunks)
        report.seconds = time.perf_counter() - started
        return previous, report
    return _rebuild(corpus_dir, index_dir, previous, manifest, files, wanted, report, started,
                    force=force, progress=progress, keep_from=keep_from)


def _rebuild(corpus_dir: Path, index_dir: Path, previous: Index | None,
             manifest: CorpusManifest, files: Listing, wanted: BM25Params,
             report: "RefreshReport", started: float, *, force: bool,
             progress: Progress | None, keep_from: Index | None) -> tuple[Index, "RefreshReport"]:
    """Load the whole corpus (unchanged files from the saved index) and build it all again."""
    reader = CachedReader(manifest, _saved_article(previous))
    loaded = load_corpus(corpus_dir, read=reader)
    report.problems = list(loaded.problems)
    scanned = reader.finish(files, loaded.problems)
    report.problems += _keep_broken(loaded.articles, loaded.problems, keep_from or previous)
    if not loaded.articles:
        detail = "; ".join(str(p) for p in loaded.errors[:3])
        raise CorpusError(f"{corpus_dir}: no article loaded" + (f" ({detail})" if detail else
                          "; add .md or .txt files"))
    old_hashes = previous.article_hashes if previous else {}
    new_hashes = {a.id: old_hashes[a.id] if a.id in reader.reused else article_hash(a)
                  for a in loaded.articles}
    if previous is not None:
        _diff(previous.article_hashes, new_hashes, report)
        if previous.article_hashes == new_hashes and _current(previous, wanted) and not force:
            scanned.index_stamp = previous.stamp
            scanned.save(index_dir)  # touched files: next start need not hash them again
            report.articles, report.chunks = len(previous.articles), len(previous.chunks)
            report.seconds = time.perf_counter() - started
            return previous, report
        previous.load_token_cache(index_dir)
        report.reason = report.reason or "the corpus or the dictionaries changed"
    else:
        report.added = sorted(new_hashes)
    index = build_index(loaded.articles, params=wanted, previous=previous, progress=progress)
    index.save(index_dir)
    scanned.index_stamp = index.stamp
    scanned.save(index_dir)
    index.corpus = scanned
    report.rebuilt, report.articles, report.chunks = True, len(index.articles), len(index.chunks)
    report.seconds = time.perf_counter() - started
    return index, report


def _corpus_manifest(index_dir: Path, previous: Index | None) -> CorpusManifest:
    """The corpus as last scanned: kept by the index in service, else read from disk."""
    if previous is None:
        return CorpusManifest()
    if previous.corpus is not None and previous.corpus.index_stamp == previous.stamp:
        return previous.corpus
    return CorpusManifest.load(index_dir, previous.stamp)


def _refresh_in_place(previous: Index, manifest: CorpusManifest, files: Listing,
                      index_dir: Path, report: "RefreshReport",
                      defer_save: bool = False) -> Index | None:
    """Splice the changed files' articles into `previous` and save; None if a rebuild must."""
    changes = scan_changes(manifest, files, _saved_article(previous))
    if changes is None or not changes.ids:
        return None
    hashes = {ident: article_hash(a) for ident, a in changes.read.items()}
    fresh = {ident for ident, h in hashes.items() if previous.article_hashes.get(ident) != h}
    now = set(changes.ids)
    removed = [ident for ident in previous.article_ids if ident not in now]
    kept = now - fresh
    old_kept = [ident for ident in previous.article_ids if ident in kept]
    if (old_kept != [ident for ident in changes.ids if ident in kept]
            or len(old_kept) != len(kept) or _keeps_broken(changes, previous)):
        return None  # a last good version kept for a broken file: only a rebuild places it
    index = previous
    if fresh or removed:
        spliced = _splice(previous, changes, fresh, removed)
        if spliced is None:
            return None
        index = spliced
        report.rebuilt = report.spliced = True

    def persist() -> None:
        if index is not previous:
            index.save(index_dir)
        changes.manifest.index_stamp = index.stamp
        changes.manifest.save(index_dir)
        index.corpus = changes.manifest

    if defer_save and index is not previous:
        report.pending = persist
    else:
        persist()
    report.added = sorted(fresh - set(previous.article_hashes))
    report.changed = sorted(fresh & set(previous.article_hashes))
    report.removed = sorted(removed)
    report.problems = changes.problems
    report.articles, report.chunks = len(index.article_ids), len(index.chunks)
    return index


def _keeps_broken(changes: Changes, previous: Index) -> bool:
    """Tell whether a file now broken had an article in `previous` (its last good version)."""
    loaded = set(changes.ids)
    return bool(_kept(changes.problems, loaded, previous.article_ids))


def _splice(previous: Index, changes: Changes, fresh: set[str],
            removed: list[str]) -> Index | None:
    """Splice: drop the removed and changed articles' passages, insert the fresh ones'.

    None when the fresh articles change the local names (then every text cuts anew).
    """
    gone = fresh | set(removed)
    content_keys = {ident: key for ident, key in previous.content_keys.items()
                    if ident not in gone}
    articles = [changes.read[ident] for ident in changes.ids if ident in fresh]
    local_names, names_by_content = _names(articles, previous.names_by_content, content_keys)
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
        key = _chunk_key(chunk, tokenizer.fingerprint)
        if key not in tokens:
            tokens[key] = (tokenizer.tokenize(chunk.text) + tokenizer.tokenize(chunk.title)
                           + tokenizer.tokenize(chunk.section or ""))
            texts[key] = searchable_text(chunk)
        documents.append(tokens[key])
        searchable.append(texts[key])
    order = chunk_order(previous.chunks.article, article_map,
                        np.asarray([position[c.article_id] for c in chunks], dtype=np.int64))
    old_texts = (previous.searchable if isinstance(previous.searchable, TextColumn)
                 else TextColumn.from_texts(previous.searchable))
    char_df = _updated_char_df(previous.char_df, old_texts, order, searchable)
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
        cache_dir=previous.cache_dir, checksums=previous.checksums)


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


def index_dir_for(data_dir: Path, corpus_dir: Path) -> Path:
    """Return where the index of `corpus_dir` is saved: one folder per corpus."""
    key = hashlib.sha1(str(corpus_dir.resolve()).encode("utf-8")).hexdigest()[:10]
    return data_dir / "index" / key
