"""The corpus manifest: each file's size, modification time and hash, saved beside the index.

At start only files whose size or time changed are read: an unchanged one is not opened,
its article comes from the saved index and its problems from here; a touched file whose
content is the same costs a hash, not a parse. `corpus.json` holds its own checksum and
the stamp of the index it describes: a corrupt, half-written or stale one is never
trusted (every file is then read again).
May import corpus's listing, load and models; nothing else of retrieval/.
"""

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from corpus.listing import CorpusListing, Entry, corpus_order, list_corpus, read_file, unreadable
from corpus.load import ARTICLE_SUFFIXES, MAX_FILE_BYTES, not_an_article, read_article
from corpus.models import Article, Problem

logger = logging.getLogger(__name__)

MANIFEST_NAME = "corpus.json"
MANIFEST_FORMAT = 2
# A file changed within this long before it was last seen may share its old time (a
# second change in the same clock tick): hash it anyway.
RACY_NS = 2_000_000_000


class FileEntry(NamedTuple):
    """One corpus file as last scanned; saved as a JSON array of these fields, in order.

    Arrays, not objects: 33,000 entries load and save in half the time.
    """

    size: int
    mtime_ns: int
    seen_ns: int | None  # when it was read (None: not read; the scan's time counts)
    sha: str  # its content's SHA-256 ("" if not read)
    id: str | None  # the article it gave (None: none)
    problems: list[dict[str, Any]]


@dataclass
class CorpusManifest:
    """Each corpus file (by its path relative to the corpus) as last read."""

    files: dict[str, FileEntry] = field(default_factory=dict)
    scanned_ns: int = 0
    index_stamp: str = ""

    def save(self, folder: Path) -> None:
        """Write `corpus.json` into the index folder atomically, with its own checksum."""
        body = json.dumps({"format": MANIFEST_FORMAT, "index": self.index_stamp,
                           "scanned_ns": self.scanned_ns, "files": self.files},
                          ensure_ascii=False)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        staging = folder.parent / f".{folder.name}-{MANIFEST_NAME}.tmp"  # never in the index
        try:
            staging.write_text(f"{digest}\n{body}", encoding="utf-8")
        except OSError as err:  # a full disk's write() names no file: say which
            raise OSError(err.errno, err.strerror, str(staging)) from err
        os.replace(staging, folder / MANIFEST_NAME)

    @classmethod
    def load(cls, folder: Path, index_stamp: str) -> "CorpusManifest":
        """Read `corpus.json`; an empty manifest if it is missing, corrupt or not this index's."""
        path = folder / MANIFEST_NAME
        try:
            digest, body = path.read_text(encoding="utf-8").split("\n", 1)
            if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
                raise ValueError("checksum differs")
            data = json.loads(body)
            if data["format"] != MANIFEST_FORMAT:
                raise ValueError(f"format {data['format']}, not the current {MANIFEST_FORMAT}")
            if data["index"] != index_stamp:
                raise ValueError("written for another index")
            files = {name: FileEntry._make(row) for name, row in data["files"].items()}
            return cls(files=files, scanned_ns=int(data["scanned_ns"]), index_stamp=index_stamp)
        except FileNotFoundError:
            return cls(index_stamp=index_stamp)
        except (OSError, ValueError, KeyError, TypeError) as err:
            logger.warning("%s: corpus manifest not trusted (%s); reading every file", path, err)
            return cls(index_stamp=index_stamp)

    def unchanged(self, path: Path, shown: str) -> bool:
        """Tell whether the file has the size and time it had (and not too near the last scan)."""
        return self.same_stat(shown, path.stat())

    def same_stat(self, shown: str, stat: os.stat_result) -> bool:
        """Tell whether `stat` is the file's size and time as last scanned (and not racy)."""
        entry = self.files.get(shown)
        if entry is None:
            return False
        seen = self.scanned_ns if entry.seen_ns is None else entry.seen_ns
        return (entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns
                and stat.st_mtime_ns < seen - RACY_NS)

    def problems(self, shown: Sequence[str]) -> list[Problem]:
        """The problems saved for these files, in their order."""
        return [Problem(**p) for name in shown for p in self.files[name].problems]

    def loaded_ids(self) -> set[str]:
        """The ids of the articles the files gave."""
        return {e.id for e in self.files.values() if e.id}


Listing = list[Entry]  # path to read (links resolved), name in the corpus, stat
# A file that could not be read is saved with this time: it never looks unchanged, so it
# is tried again at the next start (a chmod, which fixes it, changes no modification time).
UNREAD_NS = -1


def listing(root: Path) -> CorpusListing:
    """List the corpus as `load_corpus` does (`corpus/listing.py`): files, and entries refused.

    One `os.scandir` walk: pathlib's `rglob`, `relative_to` and `stat` cost seconds
    over tens of thousands of files.
    """
    return list_corpus(root)


def with_refused(problems: list[Problem], refused: list[Problem]) -> list[Problem]:
    """The files' problems and the listing's refused entries, in corpus order."""
    if not refused:
        return problems
    return sorted([*problems, *refused], key=lambda problem: corpus_order(problem.path))


def settle(manifest: CorpusManifest, files: Listing) -> CorpusManifest | None:
    """Hash the files whose time alone changed; return the manifest if all kept their content.

    A touch, a copy that keeps the content or a file saved just before the last scan
    costs a hash here, not a parse; None when a file was added, removed or changed.
    """
    names = {shown for _, shown, _ in files}
    if names != set(manifest.files):
        return None
    settled = CorpusManifest(files=dict(manifest.files), scanned_ns=time.time_ns(),
                             index_stamp=manifest.index_stamp)
    for path, shown, stat in files:
        if manifest.same_stat(shown, stat):
            continue
        entry, seen = manifest.files[shown], time.time_ns()
        if (entry.size != stat.st_size or not entry.sha
                or stat.st_size > MAX_FILE_BYTES or _digest(path) != entry.sha):
            return None
        settled.files[shown] = entry._replace(mtime_ns=stat.st_mtime_ns, seen_ns=seen)
    return settled


def all_unchanged(manifest: CorpusManifest, files: Listing) -> bool:
    """Tell whether the corpus is the one last scanned, without opening a file."""
    if len(files) != len(manifest.files):
        return False
    entries, scanned = manifest.files, manifest.scanned_ns
    for _, shown, stat in files:  # `same_stat`, inlined: this runs over every file at start
        entry = entries.get(shown)
        if (entry is None or entry.size != stat.st_size
                or entry.mtime_ns != stat.st_mtime_ns
                or stat.st_mtime_ns >= (scanned if entry.seen_ns is None else entry.seen_ns)
                - RACY_NS):
            return False
    return True


def _digest(path: str | Path) -> str:
    """The file's SHA-256, or "" if it cannot be read (reading it again reports why)."""
    try:
        return hashlib.sha256(read_file(path, MAX_FILE_BYTES)).hexdigest()
    except OSError:
        return ""


class CachedReader:
    """Read corpus files for `load_corpus`, reusing the saved article of an unchanged file."""

    def __init__(self, manifest: CorpusManifest, saved: Callable[[str], Article | None]) -> None:
        self.old, self.saved = manifest, saved
        self.new = CorpusManifest(scanned_ns=time.time_ns())
        self.reused: set[str] = set()
        self.parsed = 0

    def __call__(self, path: Path, ident: str, shown: str) -> tuple[Article | None,
                                                                     list[Problem]]:
        """Return the file's article and problems, parsing it only if its content changed."""
        seen = time.time_ns()  # a file is racy if changed within RACY_NS before it was seen
        entry = self.old.files.get(shown)
        digest = ""
        try:  # inside the per-file guard: a file gone or unreadable is only its own problem
            stat = path.stat()
            if entry is not None and self.old.same_stat(shown, stat):
                digest = entry.sha
                seen = self.old.scanned_ns if entry.seen_ns is None else entry.seen_ns
            elif stat.st_size <= MAX_FILE_BYTES:
                digest = hashlib.sha256(read_file(path, MAX_FILE_BYTES)).hexdigest()
        except OSError as err:
            problems = [unreadable(shown, err)]
            self.new.files[shown] = FileEntry(-1, UNREAD_NS, None, "", None,
                                              [p.model_dump() for p in problems])
            return None, problems
        result = self._reuse(entry, ident, digest) if entry and digest else None
        if result is None:
            self.parsed += 1
            result = read_article(path, ident, shown)
        article, problems = result
        self.new.files[shown] = FileEntry(stat.st_size, stat.st_mtime_ns, seen, digest,
                                          article.id if article else None,
                                          [p.model_dump() for p in problems])
        return article, problems

    def _reuse(self, entry: FileEntry, ident: str,
               digest: str) -> tuple[Article | None, list[Problem]] | None:
        if entry.sha != digest:
            return None
        problems = [Problem(**p) for p in entry.problems]
        if entry.id is None:
            return None, problems
        article = self.saved(ident)
        if article is None:
            return None
        self.reused.add(ident)
        return article, problems

    def finish(self, files: Listing, problems: list[Problem]) -> CorpusManifest:
        """Add the files `load_corpus` did not read (their problems only), and return it all."""
        for _, shown, stat in files:
            if shown not in self.new.files:
                self.new.files[shown] = FileEntry(
                    stat.st_size, stat.st_mtime_ns, None, "", None,
                    [p.model_dump() for p in problems if p.path == shown])
        return self.new


@dataclass
class Changes:
    """The corpus as `scan_changes` found it: only the files that changed were read."""

    manifest: CorpusManifest  # every file, as now
    ids: list[str]  # the articles' ids, in corpus order
    read: dict[str, Article]  # the articles of the files read again (changed or new), by id
    problems: list[Problem]  # every file's problems, in corpus order


def scan_changes(manifest: CorpusManifest, files: Listing,
                 saved: Callable[[str], Article | None]) -> Changes | None:
    """Read the files whose size or time changed, as `load_corpus` would; reuse the rest.

    None when two files could give the same article id: `load_corpus` decides which counts.
    """
    reader = CachedReader(manifest, saved)
    ids: list[str] = []
    idents: set[str] = set()
    read: dict[str, Article] = {}
    entries, scanned = manifest.files, manifest.scanned_ns
    for path, shown, stat in files:
        # What pathlib's suffix gives for a name that starts with no dot (listing skips
        # those), without its cost over every file.
        dot = shown.rfind(".")
        stem, suffix = ((shown[:dot], shown[dot:]) if dot > shown.rfind("/") + 1
                        else (shown, ""))
        if suffix.lower() not in ARTICLE_SUFFIXES:
            reader.new.files[shown] = FileEntry(stat.st_size, stat.st_mtime_ns, None, "", None,
                                                [not_an_article(shown).model_dump()])
            continue
        if stem in idents:
            return None
        idents.add(stem)
        entry = entries.get(shown)
        if (entry is not None and entry.size == stat.st_size  # `same_stat`, inlined
                and entry.mtime_ns == stat.st_mtime_ns
                and stat.st_mtime_ns < (scanned if entry.seen_ns is None else entry.seen_ns)
                - RACY_NS):
            reader.new.files[shown] = entry
            if entry.id is not None:
                ids.append(entry.id)
            continue
        article, _ = reader(Path(path), stem, shown)
        if article is not None:
            ids.append(article.id)
            if article.id not in reader.reused:
                read[article.id] = article
    problems = [Problem(**p) for _, shown, _ in files for p in reader.new.files[shown].problems]
    return Changes(manifest=reader.new, ids=ids, read=read, problems=problems)
