"""Refresh the saved index from the corpus folder: reuse, splice or rebuild, then report.

Holds `refresh_index` (what `linli index` and /reload call), keeping a broken file's
last good version, and `index_dir_for`. May import corpus and the rest of
`retrieval.index` (build, model, store, splice, manifest, report), never `retrieval.search`.
"""

import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from corpus.listing import CorpusListing
from corpus.load import check_corpus_dir, load_corpus
from corpus.models import Article, CorpusError, Problem
from retrieval.bm25 import BM25Params
from retrieval.collector import collection_paused
from retrieval.index.build import Progress, article_hash, build_index
from retrieval.index.manifest import (
    CachedReader,
    Changes,
    CorpusManifest,
    Listing,
    all_unchanged,
    listing,
    scan_changes,
    settle,
    with_refused,
)
from retrieval.index.model import Index
from retrieval.index.report import RefreshReport
from retrieval.index.splice import splice_index
from retrieval.index.store import FORMAT_VERSION, IndexFileError
from retrieval.text.tokenize import fingerprint

logger = logging.getLogger(__name__)


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
                   report: RefreshReport) -> Index | None:
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
    `retrieval/index/manifest.py`), and only their articles' passages are tokenised and
    spliced into the saved arrays (see `retrieval/index/splice.py`); a full rebuild is left
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
    listed = listing(corpus_dir)
    files = listed.files
    settled = None
    if previous is not None and not force and _current(previous, wanted):
        settled = manifest if all_unchanged(manifest, files) else settle(manifest, files)
        if settled is None:
            spliced = _refresh_in_place(previous, manifest, listed, index_dir, report,
                                        defer_save)
            if spliced is not None:
                report.seconds = time.perf_counter() - started
                return spliced, report
    if previous is not None and settled is not None:
        if settled is not manifest:
            settled.save(index_dir)  # the touched files need no hash at the next start
        previous.corpus = settled
        report.problems = with_refused(manifest.problems([shown for _, shown, _ in files]),
                                       listed.problems)
        report.problems += [note for _, note in _kept(report.problems, manifest.loaded_ids(),
                                                      previous.article_ids)]
        report.articles, report.chunks = len(previous.articles), len(previous.chunks)
        report.seconds = time.perf_counter() - started
        return previous, report
    return _rebuild(corpus_dir, index_dir, previous, manifest, files, wanted, report, started,
                    force=force, progress=progress, keep_from=keep_from)


def _rebuild(corpus_dir: Path, index_dir: Path, previous: Index | None,
             manifest: CorpusManifest, files: Listing, wanted: BM25Params,
             report: RefreshReport, started: float, *, force: bool,
             progress: Progress | None, keep_from: Index | None) -> tuple[Index, RefreshReport]:
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


def _refresh_in_place(previous: Index, manifest: CorpusManifest, listed: CorpusListing,
                      index_dir: Path, report: RefreshReport,
                      defer_save: bool = False) -> Index | None:
    """Splice the changed files' articles into `previous` and save; None if a rebuild must."""
    changes = scan_changes(manifest, listed.files, _saved_article(previous))
    if changes is None or not changes.ids:
        return None
    # A refused entry (a link out, a loop) is a problem like a broken file's, as in a rebuild.
    changes.problems = with_refused(changes.problems, listed.problems)
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
        spliced = splice_index(previous, changes, fresh, removed)
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


def index_dir_for(data_dir: Path, corpus_dir: Path) -> Path:
    """Return where the index of `corpus_dir` is saved: one folder per corpus."""
    key = hashlib.sha1(str(corpus_dir.resolve()).encode("utf-8")).hexdigest()[:10]
    return data_dir / "index" / key
