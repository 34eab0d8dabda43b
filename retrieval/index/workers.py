"""Tokenise and harvest names in worker processes: a full build on every core.

jieba runs in Python under the GIL, so threads would not help; each worker process
loads its own tokenizer once (jieba's cached dictionary, a second) and takes batches.
The work items and their order are those of one process: the result is the same.
May import `retrieval.text` (tokenizer, lexicon); nothing else of retrieval/.
"""

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TypeVar

from retrieval.text.lexicon import harvest_names
from retrieval.text.tokenize import Tokenizer, normalize_for_search

logger = logging.getLogger(__name__)

# Below this many items, starting the workers costs more than it saves.
MIN_PARALLEL_ITEMS = 2000
BATCH = 200
FEW_ARTICLES = 20  # up to this many, word tags are looked up one by one, not all loaded
Passage = tuple[str, str, str]  # text, title, section ("" if none)
Item = TypeVar("Item")
Result = TypeVar("Result")

_tokenizer: Tokenizer | None = None


def worker_count(items: int, wanted: int | None = None) -> int:
    """How many processes to use for `items` work items (`wanted`, if given, decides)."""
    if wanted is not None:
        return max(1, wanted)
    if items < MIN_PARALLEL_ITEMS:
        return 1
    return max(1, min(os.cpu_count() or 1, len(os.sched_getaffinity(0))
                      if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _start(local_names: tuple[str, ...]) -> None:
    """Load this worker's tokenizer once, before its first batch."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    global _tokenizer
    _tokenizer = Tokenizer(local_names)


def tokens_of(tokenizer: Tokenizer, passage: Passage) -> list[str]:
    """The passage's tokens: its text's, then its title's, then its section's."""
    text, title, section = passage
    return tokenizer.tokenize(text) + tokenizer.tokenize(title) + tokenizer.tokenize(section)


def searchable_of(passage: Passage) -> str:
    """The passage's title, section and text, normalised as questions are (text last)."""
    text, title, section = passage
    return normalize_for_search("\n".join([title, section, text]))


def names_of(tokenizer: Tokenizer, texts: Sequence[str], few: bool = False) -> list[str]:
    """The local names harvested from one article's texts (title and paragraphs)."""
    return harvest_names(tokenizer.tagged(text, few) for text in texts)


def _worker_tokenizer() -> Tokenizer:
    if _tokenizer is None:
        raise RuntimeError("worker used before its tokenizer was loaded")
    return _tokenizer


def _tokenise_batch(batch: list[Passage]) -> list[tuple[list[str], str]]:
    tokenizer = _worker_tokenizer()
    return [(tokens_of(tokenizer, passage), searchable_of(passage)) for passage in batch]


def _harvest_batch(batch: list[list[str]]) -> list[list[str]]:
    tokenizer = _worker_tokenizer()
    return [names_of(tokenizer, texts) for texts in batch]


def _batches(items: Sequence[Item]) -> Iterator[list[Item]]:
    for start in range(0, len(items), BATCH):
        yield list(items[start : start + BATCH])


def run_batched(task: Callable[[list[Item]], list[Result]], items: Sequence[Item],
                local_names: tuple[str, ...], workers: int,
                progress: Callable[[int], None] | None = None) -> list[Result]:
    """Apply a batch task to every item on `workers` processes, results in item order."""
    done: list[Result] = []
    context = get_context("spawn")  # never fork: the bot calls this from a thread
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                             initargs=(local_names,)) as pool:
        for results in pool.map(task, _batches(items)):
            done.extend(results)
            if progress:
                progress(len(done))
    return done


def tokenise_all(passages: Sequence[Passage], local_names: tuple[str, ...], workers: int,
                 progress: Callable[[int], None] | None = None,
                 ) -> list[tuple[list[str], str]]:
    """Tokenise passages (tokens and searchable text) on `workers` processes, in order."""
    if workers > 1:
        try:
            return run_batched(_tokenise_batch, passages, local_names, workers, progress)
        except (BrokenProcessPool, OSError, RuntimeError) as err:
            logger.warning("worker processes failed (%s); tokenising in this one", err)
    tokenizer = Tokenizer(local_names)
    done = []
    for passage in passages:
        done.append((tokens_of(tokenizer, passage), searchable_of(passage)))
        if progress and len(done) % BATCH == 0:
            progress(len(done))
    return done


def harvest_all(articles: Sequence[list[str]], workers: int) -> list[list[str]]:
    """Harvest each article's local names (from its texts) on `workers` processes, in order."""
    if workers > 1:
        try:
            return run_batched(_harvest_batch, articles, (), workers)
        except (BrokenProcessPool, OSError, RuntimeError) as err:
            logger.warning("worker processes failed (%s); harvesting names in this one", err)
    tokenizer, few = Tokenizer(), len(articles) <= FEW_ARTICLES
    return [names_of(tokenizer, texts, few) for texts in articles]

