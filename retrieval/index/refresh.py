"""Refresh the saved index from the corpus: a new small segment per edit, merges by tiers.

Only files whose size or time changed are read (`retrieval/manifest.py`); their
articles' passages are tokenised into a new segment and their old versions marked
dropped in the segments holding them, which are never rewritten. Segments merge by
size tiers (see `merge.py`) after an edit is saved; `linli index --optimize` merges
everything.
May import corpus, `retrieval.bm25`, `retrieval.collector`, `retrieval.text` and
the index's build, manifest, merge, model, report, store and workers.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from corpus.chunk import chunk_article
from corpus.listing import CorpusListing
from corpus.load import check_corpus_dir, load_corpus
from corpus.models import Article, CorpusError, Problem
from retrieval.bm25 import BM25Params
from retrieval.collector import collection_paused
from retrieval.index.build import (
    Progress,
    TokenSource,
    article_hash,
    build_into,
    harvest,
    tokenised_segment,
)
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
from retrieval.index.merge import merge_into, merge_policy
from retrieval.index.model import Index, load_index, save_index
from retrieval.index.report import RefreshReport
from retrieval.index.store import IndexFileError, saved_stamp
from retrieval.index.workers import TokenPool
from retrieval.text.tokenize import fingerprint

logger = logging.getLogger(__name__)

def _current(previous: Index) -> bool:
    """Tell whether the index was cut with the dictionaries of today."""
    return fingerprint(previous.local_names) == previous.fingerprint


def _load_previous(index_dir: Path, keep_from: Index | None,
                   report: RefreshReport) -> Index | None:
    """The index saved in `index_dir`: the one in service if it is that one, else loaded."""
    if keep_from is not None and keep_from.stamp and keep_from.stamp == saved_stamp(index_dir):
        return keep_from
    try:
        return load_index(index_dir)
    except IndexFileError as err:
        report.reason = str(err)
        if index_dir.exists():
            logger.warning("%s; rebuilding", err)
        return None


def refresh_index(corpus_dir: Path, index_dir: Path, *, params: BM25Params | None = None,
                  progress: Progress | None = None, force: bool = False,
                  keep_from: Index | None = None, defer_save: bool = False,
                  optimize: bool = False) -> tuple[Index, RefreshReport]:
    """Load the saved index if it matches the corpus; otherwise update it, save and report.

    Only files whose size or time changed since the last scan are read; their articles
    go into a new segment (see the module's docstring); a full rebuild is left for what
    a segment cannot hold (new local names, a broken file whose last good version
    stays, two files for one id). A file that no longer loads keeps its last good
    version (from `keep_from`, the index in service, or else the saved one), so a bad
    edit never removes an article. BM25's parameters are applied when a question is
    scored: changing them rewrites only the manifest.

    `defer_save`: an updated index is returned unsaved, `report.pending` saves it (the
    bot serves the new index first, then saves it). `optimize`: merge every segment.
    """
    # A refresh reads and drops tens of thousands of small objects (the manifests, the
    # ids); the collector would walk them many times over for next to no cycle.
    with collection_paused():
        started = time.perf_counter()
        index, report = _refresh(corpus_dir, index_dir, params or BM25Params(), progress,
                                 force, keep_from, defer_save)
        if optimize and len(index.segments) + sum(
                bool(len(s.deletions.articles)) for s in index.segments) > 1:
            if report.pending is not None:
                report.pending()
                report.pending = None
            report.merged = len(index.segments)
            index = merge_into(index, index_dir, list(range(len(index.segments))))
        report.seconds = time.perf_counter() - started
        return index, report


def _refresh(corpus_dir: Path, index_dir: Path, wanted: BM25Params, progress: Progress | None,
             force: bool, keep_from: Index | None,
             defer_save: bool) -> tuple[Index, RefreshReport]:
    check_corpus_dir(corpus_dir)
    report = RefreshReport()
    previous = _load_previous(index_dir, keep_from, report)
    manifest = _corpus_manifest(index_dir, previous)
    listed = listing(corpus_dir)
    files = listed.files
    settled = None
    if previous is not None and not force and _current(previous):
        if previous.params != wanted:  # weights are computed when read: only the manifest
            previous = replace(previous, params=wanted)
            save_index(previous, index_dir)
            manifest.index_stamp = previous.stamp
            manifest.save(index_dir)
        settled = manifest if all_unchanged(manifest, files) else settle(manifest, files)
        if settled is None:
            updated = _refresh_in_place(previous, manifest, listed, index_dir, report,
                                        defer_save)
            if updated is not None:
                return updated, report
    if previous is not None and settled is not None:
        if settled is not manifest:
            settled.save(index_dir)  # the touched files need no hash at the next start
        previous.corpus = settled
        report.problems = with_refused(manifest.problems([shown for _, shown, _ in files]),
                                       listed.problems)
        report.problems += [note for _, note in _kept(report.problems, manifest.loaded_ids(),
                                                      previous.article_ids)]
        report.articles, report.chunks = len(previous.article_ids), previous.live_passages()
        return previous, report
    return _rebuild(corpus_dir, index_dir, previous, manifest, files, wanted, report,
                    force=force, progress=progress, keep_from=keep_from)


def _rebuild(corpus_dir: Path, index_dir: Path, previous: Index | None,
             manifest: CorpusManifest, files: Listing, wanted: BM25Params,
             report: RefreshReport, *, force: bool, progress: Progress | None,
             keep_from: Index | None) -> tuple[Index, RefreshReport]:
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
        if previous.article_hashes == new_hashes and _current(previous) and not force:
            scanned.index_stamp = previous.stamp
            scanned.save(index_dir)  # touched files: next start need not hash them again
            report.articles, report.chunks = len(previous.article_ids), previous.live_passages()
            return previous, report
        report.reason = report.reason or "the corpus or the dictionaries changed"
    else:
        report.added = sorted(new_hashes)
    index = build_into(loaded.articles, index_dir, params=wanted, previous=previous,
                       progress=progress)
    save_index(index, index_dir)
    scanned.index_stamp = index.stamp
    scanned.save(index_dir)
    index.corpus = scanned
    report.rebuilt = True
    report.articles, report.chunks = len(index.article_ids), index.live_passages()
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
    """Add a segment for the changed files' articles, drop their old versions; None: rebuild."""
    changes = scan_changes(manifest, listed.files, _saved_article(previous))
    if changes is None or not changes.ids:
        return None
    # A refused entry (a link out, a loop) is a problem like a broken file's, as in a rebuild.
    changes.problems = with_refused(changes.problems, listed.problems)
    hashes = {ident: article_hash(a) for ident, a in changes.read.items()}
    fresh = {ident for ident, h in hashes.items() if previous.article_hashes.get(ident) != h}
    now = set(changes.ids)
    removed = [ident for ident in previous.article_ids if ident not in now]
    if len(now - fresh - set(previous.article_ids)) or _keeps_broken(changes, previous):
        return None  # a last good version kept for a broken file: only a rebuild places it
    index = previous
    if fresh or removed:
        updated = _with_edits(previous, changes, fresh, removed)
        if updated is None:
            return None
        index = updated
        report.rebuilt = report.spliced = True

    def persist() -> None:
        nonlocal index
        if index is not previous:
            save_index(index, index_dir)
        changes.manifest.index_stamp = index.stamp
        changes.manifest.save(index_dir)
        index.corpus = changes.manifest
        if index is not previous:
            try:
                merged = merge_policy(index, index_dir)
            except (OSError, ValueError, IndexFileError) as err:
                # The edit is saved and its segments serve: a merge can wait for the next.
                logger.error("merging segments failed, they stay as they are: %s", err)
                merged = index
            if merged is not index:
                report.merged = len(index.segments) - len(merged.segments) + 1
                index = merged

    if defer_save and index is not previous:
        report.pending = persist
    else:
        persist()
    report.added = sorted(fresh - set(previous.article_hashes))
    report.changed = sorted(fresh & set(previous.article_hashes))
    report.removed = sorted(removed)
    report.problems = changes.problems
    report.articles, report.chunks = len(index.article_ids), index.live_passages()
    return index


def _with_edits(previous: Index, changes: Changes, fresh: set[str],
                removed: list[str]) -> Index | None:
    """The index with the fresh articles in a new segment and their old versions dropped.

    None when the fresh articles change the local names (then every text cuts anew).
    """
    gone = fresh | set(removed)
    content_keys = {ident: key for ident, key in previous.content_keys.items()
                    if ident not in gone}
    articles = [changes.read[ident] for ident in changes.ids if ident in fresh]
    local_names, names_by_content = harvest(articles, previous.names_by_content, content_keys)
    if fingerprint(local_names) != previous.fingerprint:
        return None  # new or lost local names change how every text is cut: rebuild
    segments = list(previous.segments)
    layout = previous.layout
    dropping: dict[int, list[int]] = {}
    for position, ident in enumerate(previous.article_ids):
        if ident in gone:
            part = int(layout.article_part[position])
            dropping.setdefault(part, []).append(int(layout.article_local[position]))
    for part, local in dropping.items():
        segment = segments[part]
        segments[part] = replace(segment, deletions=segment.deleting(
            np.asarray(local, dtype=np.int64)))
    if articles:
        chunks = [chunk for article in articles for chunk in chunk_article(article)]
        with TokenPool(tuple(local_names), 1) as pool:
            segments.append(tokenised_segment(articles, chunks, previous.fingerprint,
                                              TokenSource(None, ""), pool))
    hashes = {ident: previous.article_hashes[ident] if ident not in fresh
              else article_hash(changes.read[ident]) for ident in changes.ids}
    return Index(segments=segments, params=previous.params, local_names=local_names,
                 article_hashes=hashes, names_by_content=names_by_content,
                 fingerprint=previous.fingerprint, content_keys=content_keys,
                 folder=previous.folder, next_segment=previous.next_segment)


def _diff(old: dict[str, str], new: dict[str, str], report: RefreshReport) -> None:
    report.added = sorted(set(new) - set(old))
    report.removed = sorted(set(old) - set(new))
    report.changed = sorted(i for i in set(new) & set(old) if new[i] != old[i])


def _keeps_broken(changes: Changes, previous: Index) -> bool:
    """Tell whether a file now broken had an article in `previous` (its last good version)."""
    return bool(_kept(changes.problems, set(changes.ids), previous.article_ids))


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


def index_dir_for(data_dir: Path, corpus_dir: Path) -> Path:
    """Return where the index of `corpus_dir` is saved: one folder per corpus."""
    key = hashlib.sha1(str(corpus_dir.resolve()).encode("utf-8")).hexdigest()[:10]
    return data_dir / "index" / key
