"""The saved index's files: format, writers with checksums, checks at load, leftovers.

Holds the on-disk conventions (`FORMAT_VERSION`, the array file names), the writers
that return each file's checksum from memory, the checks a load makes before any
file is used, and the tidying of what an interrupted save left. May import the
standard library, numpy and `retrieval.index.manifest` (the corpus manifest's name).
"""

import io
import json
import logging
import mmap
import os
import shutil
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval.index.manifest import MANIFEST_NAME

logger = logging.getLogger(__name__)

FORMAT_VERSION = 12  # 12: the character pairs' counts
HASH_WINDOW = 16 * 2**20
POSTINGS = ("indptr", "doc_ids", "tfs", "doc_len")
SCORES = ("idf", "gain", "max_gain")


class IndexFileError(Exception):
    """The saved index is missing, corrupt or from another format: it must be rebuilt."""


def token_files(folder: Path) -> list[Path]:
    """The token cache's files: `tokens.jsonl` and what incremental saves added beside it."""
    return sorted(folder.glob("tokens*.jsonl"))


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Give an OS error raised while writing `path` the path: a full disk's write() names none."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise


def write_json(path: Path, value: object) -> str:
    """Write `value` as JSON; return the file's checksum."""
    return write_bytes(path, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def write_bytes(path: Path, data: "bytes | mmap.mmap") -> str:
    """Write `data`; return the file's checksum (as `file_checksum` gives), from memory.

    Reading back the file just written would fault in every page of it once more.
    """
    with naming(path), path.open("wb") as out:
        out.write(data)
    return f"{len(data)}:{zlib.crc32(data):08x}"


def save_array(path: Path, array: NDArray[Any]) -> str:
    """Write one array as np.save does (no pickle); return the file's checksum, from memory."""
    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    data = array.data.cast("B") if array.size else memoryview(b"")
    with naming(path), path.open("wb") as out:
        out.write(header.getvalue())
        out.write(data)
    crc = zlib.crc32(data, zlib.crc32(header.getvalue()))
    return f"{len(header.getvalue()) + len(data)}:{crc:08x}"


def read_json(path: Path) -> Any:
    """Read a JSON file the index wrote."""
    return json.loads(path.read_text(encoding="utf-8"))


def file_checksum(path: Path) -> str:
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


def check_files(directory: Path, checksums: dict[str, str]) -> None:
    """Check every saved file against the manifest before any is used."""
    # The corpus manifest checks itself: it is rewritten without rewriting the index.
    present = {path.name for path in directory.iterdir()} - {"manifest.json", MANIFEST_NAME}
    if present != set(checksums):
        raise IndexFileError(f"{directory}: saved index is corrupt (files differ from the "
                             f"manifest: {', '.join(sorted(present ^ set(checksums)))})")
    for name in sorted(present):
        if file_checksum(directory / name) != checksums[name]:
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
