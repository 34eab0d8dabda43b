"""The saved index's files: format, writers with checksums, checks at load, leftovers.

An index folder holds `manifest.json` (format `FORMAT_VERSION`: the segments in order
with every file's checksum, each segment's deletions file, and what the index as a
whole knows), one folder per segment (`seg-NNNNNN/`), the segments' deletions files
(`seg-NNNNNN.del-GGGGGG.json`) and the corpus manifest. A save writes under names no
manifest uses (`.tmp-...` while being written), then replaces the manifest in one
rename; `tidy` removes what the manifest does not name. May import the standard
library, numpy and `retrieval.index.manifest` (the corpus manifest's name).
"""

import io
import json
import logging
import mmap
import os
import re
import shutil
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from retrieval.index.manifest import MANIFEST_NAME

logger = logging.getLogger(__name__)

FORMAT_VERSION = 13  # 13: segments (issue 23) with the character pairs' counts per segment
HASH_WINDOW = 16 * 2**20
INDEX_MANIFEST = "manifest.json"
STAGING = ".tmp-"  # a folder or file being written: named by no manifest
BUSY_SECONDS = 600  # a staging entry this recent may be another process's save in progress


class IndexFileError(Exception):
    """The saved index is missing, corrupt or from another format: it must be rebuilt."""


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Give an OS error raised while writing `path` the path: a full disk's write() names none."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise


def write_bytes(path: Path, data: "bytes | mmap.mmap") -> str:
    """Write `data`; return the file's checksum (as `file_checksum` gives), from memory.

    Reading back the file just written would fault in every page of it once more.
    """
    with naming(path), path.open("wb") as out:
        out.write(data)
    return f"{len(data)}:{zlib.crc32(data):08x}"


def write_json(path: Path, value: object) -> str:
    """Write `value` as JSON; return the file's checksum."""
    return write_bytes(path, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def read_json(path: Path) -> Any:
    """Read a JSON file the index wrote."""
    return json.loads(path.read_text(encoding="utf-8"))


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


def check_files(folder: Path, checksums: dict[str, str]) -> None:
    """Check every file of a segment's folder against its checksums before any is used."""
    try:
        present = {path.name for path in folder.iterdir()}
    except OSError as err:
        raise IndexFileError(f"{folder}: saved index is corrupt ({err})") from None
    if present != set(checksums):
        raise IndexFileError(f"{folder}: saved index is corrupt (files differ from the "
                             f"manifest: {', '.join(sorted(present ^ set(checksums)))})")
    for name in sorted(present):
        if file_checksum(folder / name) != checksums[name]:
            raise IndexFileError(f"{folder / name}: saved index is corrupt (checksum differs)")


def segment_name(number: int) -> str:
    """The folder name of segment `number`."""
    return f"seg-{number:06d}"


def free_segment_number(directory: Path) -> int:
    """A segment number above every one in the folder (named or left over)."""
    numbers = [int(m.group(1)) for p in directory.iterdir()
               if (m := re.search(r"seg-(\d{6})", p.name))]
    return max(numbers, default=0) + 1


def next_generation(directory: Path, name: str) -> int:
    """A number for segment `name`'s next deletions file."""
    numbers = [int(m.group(1)) for p in directory.glob(f"{name}.del-*.json")
               if (m := re.search(r"\.del-(\d{6})\.json$", p.name))]
    return max(numbers, default=0) + 1


def tidy(directory: Path, named: set[str]) -> list[Path]:
    """Remove what the manifest does not name (old segments, interrupted saves and merges)."""
    kept = named | {INDEX_MANIFEST, MANIFEST_NAME}
    removed = []
    now = time.time()
    for path in directory.iterdir():
        if path.name in kept:
            continue
        try:
            if path.name.startswith(STAGING) and now - path.stat().st_mtime < BUSY_SECONDS:
                continue  # perhaps another process saving right now
        except FileNotFoundError:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def saved_stamp(index_dir: Path) -> str | None:
    """The stamp of the index saved in `index_dir` (None if there is none readable)."""
    try:
        with (index_dir / INDEX_MANIFEST).open(encoding="utf-8") as manifest:
            head = manifest.read(200)  # written first: no need to parse the whole manifest
    except OSError:
        return None
    found = re.match(r'\{"format": (\d+), "created": "([^"]+)"', head)
    return found.group(2) if found and int(found.group(1)) == FORMAT_VERSION else None


def remove_leftovers(parent: Path) -> list[Path]:
    """Tidy what an interrupted save of a one-folder format (12 or before) left beside them.

    (Format 13, segments, saves inside the index folder, and tidies there.)
    """
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
