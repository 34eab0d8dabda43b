"""Pausing Python's garbage collector around work that builds a big heap."""

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
