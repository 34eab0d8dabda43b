"""Python's garbage collector around a big heap: paused while building, frozen once loaded.

The one home of gc handling in retrieval/ (the index's refresh, the tokenizer's
dictionary load, the CLI and the bot call it). Imports only the standard library.
"""

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


@contextmanager
def collection_paused(collect: bool = True) -> Iterator[None]:
    """Pause the garbage collector for a while (as it was before, after).

    It walks a half-built heap of long-lived objects many times over for next to no
    cycle. `collect`: then collect once what piled up meanwhile (the imports' cycles
    too), so that what comes next reuses that memory instead of growing the heap (16 MB
    in the searching process at 33,000 articles).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            if collect:
                started = time.perf_counter()
                gc.collect()
                logger.debug("collected after the pause in %.3f s", time.perf_counter() - started)


def freeze_loaded_objects() -> None:
    """Move everything loaded so far out of the garbage collector's sight (gc.freeze).

    A loaded index is hundreds of thousands of long-lived objects; without this,
    each full collection walks them all in the middle of some question.
    """
    gc.collect()
    gc.freeze()
