"""The index the bot answers from, and its swap for a fresh one on /reload.

Telegram-free: may import `retrieval` and `corpus`, never `telegram` or a channel.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus.models import CorpusError
from retrieval.collector import freeze_loaded_objects
from retrieval.index import (
    Index,
    RefreshReport,
    index_dir_for,
    refresh_index,
    remove_leftovers,
)
from retrieval.search import Searcher
from retrieval.search.gate import Gate
from retrieval.search.selftest import corpus_gate

logger = logging.getLogger(__name__)


def log_problems(report: RefreshReport) -> None:
    """Log each corpus problem once, at its level: the service's report of them."""
    for problem in report.problems:
        logger.log(logging.ERROR if problem.level == "error" else logging.WARNING,
                   "corpus: %s", problem)


class ReloadBusyError(Exception):
    """A reload is already running."""


@dataclass
class ReloadOutcome:
    """What a reload did, or why the old index stayed live."""

    report: RefreshReport | None
    error: str | None = None


class LiveIndex:
    """Holds the current searcher; a reload builds a new one aside and swaps it in at once."""

    def __init__(self, corpus_dir: Path, data_dir: Path,
                 answer_threshold: float | None = None) -> None:
        self.corpus_dir = corpus_dir
        self.gate = Gate.load().with_threshold(answer_threshold)
        # A threshold set by the operator is kept; else each corpus gets its own
        # (retrieval/search/selftest.py), measured in the background while the shipped
        # one serves.
        self.selftest = answer_threshold is None
        self.selftest_thread: threading.Thread | None = None
        self.index_dir = index_dir_for(data_dir, corpus_dir)
        self._reloading = threading.Lock()
        self.searcher: Searcher | None = None
        self.last_report: RefreshReport | None = None
        self._saver: threading.Thread | None = None
        self._saving = False

    def load(self) -> RefreshReport:
        """Load (or build) the index at start-up; raise CorpusError if there is nothing to load."""
        remove_leftovers(self.index_dir.parent)
        index, report = refresh_index(self.corpus_dir, self.index_dir)
        self.searcher, self.last_report = Searcher(index, gate=self.gate), report
        self._start_selftest(self.searcher)
        freeze_loaded_objects()
        log_problems(report)
        return report

    def _start_selftest(self, searcher: Searcher) -> None:
        """Give the searcher its corpus's threshold, in the background (cached on disk)."""
        if not self.selftest:
            return

        def run() -> None:
            try:
                searcher.gate = corpus_gate(searcher, self.index_dir)
            except Exception:  # the shipped threshold keeps serving
                logger.exception("the corpus self-test failed; the shipped threshold serves")

        self.selftest_thread = threading.Thread(target=run, name="linli-selftest", daemon=True)
        self.selftest_thread.start()

    def current(self) -> Searcher:
        """Return the searcher in service."""
        if self.searcher is None:
            raise RuntimeError("the index is not loaded yet")
        return self.searcher

    def reload_now(self) -> ReloadOutcome:
        """Re-read the corpus and swap the new index in; keep the old one on failure."""
        saver = self._saver
        if saver is not None and self._saving:
            saver.join()  # the last reload's index is still being saved: that is quick
        if not self._reloading.acquire(blocking=False):
            raise ReloadBusyError("a reload is already running")
        saving = False
        try:
            previous = self.searcher.index if self.searcher else None
            index, report = refresh_index(self.corpus_dir, self.index_dir, keep_from=previous,
                                          defer_save=True)
            self.searcher, self.last_report = Searcher(index, gate=self.gate), report
            self._start_selftest(self.searcher)
            freeze_loaded_objects()
            logger.info("reloaded: %d articles, %d chunks, %.2f s", report.articles,
                        report.chunks, report.seconds)
            log_problems(report)
            if report.pending is not None:
                self._saver = threading.Thread(target=self._save, args=(report.pending,),
                                               name="linli-index-save")
                self._saving = saving = True
                self._saver.start()  # the saver releases the reload lock when the index is saved
            return ReloadOutcome(report)
        except (CorpusError, OSError) as err:
            logger.error("reload failed, the old index stays live: %s", err)
            return ReloadOutcome(None, str(err))
        except Exception as err:  # a bug must not leave the admin with only an apology
            logger.exception("reload failed, the old index stays live")
            return ReloadOutcome(None, f"{type(err).__name__}: {err}")
        finally:
            if not saving:
                self._reloading.release()

    def _save(self, pending: Callable[[], None]) -> None:
        """Save the index just swapped in, then serve it from its mapped files."""
        try:
            started = time.perf_counter()
            pending()
            # The spliced arrays were built in memory: the saved ones are mapped, and shared.
            saved = Index.load(self.index_dir)
            serving = self.current().index
            if serving.stamp == saved.stamp:
                saved.corpus = serving.corpus  # the next reload need not read it again
            # The same articles: the self-test's threshold carries over (or, still running,
            # is read from its cache when it is done).
            self.searcher = Searcher(saved, gate=self.current().gate)
            self._start_selftest(self.searcher)
            freeze_loaded_objects()
            logger.info("index saved, %.2f s", time.perf_counter() - started)
        except Exception:  # the index in service is whole; the next start splices again
            logger.exception("saving the reloaded index failed; it stays in service unsaved")
        finally:
            self._saving = False
            self._reloading.release()

    def wait_saved(self) -> None:
        """Wait until the index of the last reload is saved (for shutdown and tests)."""
        if self._saver is not None:
            self._saver.join()

    async def reload(self) -> ReloadOutcome:
        """Reload off the event loop: residents keep getting answers meanwhile."""
        return await asyncio.to_thread(self.reload_now)

    @property
    def reloading(self) -> bool:
        """Tell whether a reload is running (saving the last one's index does not count)."""
        return self._reloading.locked() and not self._saving
