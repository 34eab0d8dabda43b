"""The index in memory (`Index`) and its save and load as one folder.

On disk (a folder, format `FORMAT_VERSION`, never pickle): `manifest.json` (written
last, with a checksum of every file), `articles.jsonl` with `articles.npy` and
`article_ids.json`, the chunk columns `chunks.<column>.npy` with `sections.json`,
`searchable.bin` with `searchable.npy`, `vocab.json`, `char_df.json`, the character
pairs' counts `pairs.codes.npy` and `pairs.df.npy` (a part of their own, see
`retrieval.text.pairs`),
`postings.<array>.npy` and `scores.<array>.npy` (each one array as np.save writes
it, mapped with `allow_pickle=False`), and `tokens*.jsonl`, the per-chunk token cache
keyed by a hash of the chunk's text and of the dictionaries. May import corpus's
models, `retrieval.bm25` and the index's columns, manifest and store.
"""

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from corpus.models import Article
from retrieval.bm25 import BM25, BM25Params, Postings
from retrieval.index.columns import (
    ArticleTable,
    ChunkTable,
    TextColumn,
    map_array,
    map_bytes,
)
from retrieval.index.manifest import CorpusManifest
from retrieval.index.store import (
    FORMAT_VERSION,
    POSTINGS,
    SCORES,
    IndexFileError,
    check_files,
    file_checksum,
    naming,
    read_json,
    save_array,
    token_files,
    write_bytes,
    write_json,
)
from retrieval.text.pairs import PairCounts

logger = logging.getLogger(__name__)


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
    scores: dict[str, NDArray[np.float64]] | None = field(default=None, repr=False)
    stored_ids: list[str] | None = field(default=None, repr=False)
    stamp: str = ""
    content_keys: dict[str, str] = field(default_factory=dict, repr=False)  # id -> text hash
    # The saved folder whose token files hold the rest of the cache (`tokens` holds new ones).
    cache_dir: Path | None = None
    checksums: dict[str, str] = field(default_factory=dict, repr=False)
    corpus: CorpusManifest | None = field(default=None, repr=False)  # as saved beside it
    # The character-pair field's table (retrieval/text/pairs.py): two arrays of their own.
    pairs: PairCounts | None = field(default=None, repr=False)

    @property
    def article_ids(self) -> list[str]:
        """The articles' ids, in index order (read from disk: no article is parsed for them)."""
        if self.stored_ids is None:
            self.stored_ids = [a.id for a in self.articles]
        return self.stored_ids

    def pair_counts(self) -> PairCounts:
        """How many passages hold each character pair (counted once, then kept)."""
        if self.pairs is None:
            self.pairs = PairCounts.from_texts(self.searchable[i]
                                               for i in range(len(self.searchable)))
        return self.pairs

    def bm25(self) -> BM25:
        """Return the scorer over this index's postings (its arrays computed once, saved)."""
        scorer = BM25(self.postings, self.params, self.scores)
        self.scores = scorer.arrays()
        return scorer

    def save(self, directory: Path) -> None:
        """Write the index to `directory` atomically: a crash leaves the old one whole."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".index-", dir=directory.parent))
        try:
            with naming(directory):  # the folder, where no writer named its file
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
            known[blob_name] = write_bytes(folder / blob_name, column.blob)
            known[f"{name}.npy"] = save_array(folder / f"{name}.npy", column.offsets)
        known["article_ids.json"] = write_json(folder / "article_ids.json", self.article_ids)
        self.chunks.save(folder)
        known["vocab.json"] = write_json(folder / "vocab.json", self.postings.terms)
        scores = self.scores or self.bm25().arrays()
        for name in SCORES:
            known[f"scores.{name}.npy"] = save_array(folder / f"scores.{name}.npy",
                                                      scores[name])
        for name in POSTINGS:
            known[f"postings.{name}.npy"] = save_array(folder / f"postings.{name}.npy",
                                                        getattr(self.postings, name))
        known["char_df.json"] = write_json(folder / "char_df.json", self.char_df)
        self.pair_counts().save(folder)
        name = "tokens.jsonl"
        if self.cache_dir is not None:  # the cache so far stays; the new tokens go beside it
            for old in token_files(self.cache_dir):
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
        self.checksums = {path.name: known.get(path.name) or file_checksum(path)
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
            check_files(directory, manifest["checksums"])
            postings = Postings(terms=read_json(directory / "vocab.json"), **{
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
                char_df=read_json(directory / "char_df.json"), searchable=searchable,
                scores={name: map_array(directory / f"scores.{name}.npy") for name in SCORES},
                stored_ids=[str(i) for i in read_json(directory / "article_ids.json")],
                stamp=str(manifest["created"]), content_keys=dict(manifest["content_keys"]),
                cache_dir=directory, checksums=dict(manifest["checksums"]),
                pairs=PairCounts.load(directory))
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
            and (self.scores is None or len(self.scores["gain"]) == len(p.doc_ids))
            and len(p.indptr) == len(p.terms) + 1
            and len(p.doc_ids) == len(p.tfs) == int(p.indptr[-1])
        )
        if not consistent:
            raise IndexFileError(f"{directory}: saved index is corrupt (sizes do not agree)")

    def load_token_cache(self, directory: Path) -> None:
        """Read the saved per-chunk tokens, the cache a rebuild starts from."""
        try:
            for path in token_files(directory):
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
