"""Save and load the index: a folder of segments and one manifest naming them.

`manifest.json` (format `FORMAT_VERSION`) names the segments in order with every
file's checksum, each segment's deletions file, and what the index as a whole knows
(BM25 parameters, local names, article hashes). A save writes the new segments and
deletions first, each under a name no manifest uses yet, then replaces the manifest
in one rename: a crash or a kill at any point leaves the old manifest naming the old
files, untouched. What no manifest names is removed at the next save. May import
retrieval's bm25, manifest, segment and segmented modules.
"""

import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from retrieval.bm25 import BM25Params
from retrieval.manifest import MANIFEST_NAME
from retrieval.segment import (
    Deletions,
    Segment,
    SegmentFileError,
    file_checksum,
    write_bytes,
)
from retrieval.segmented import Index

logger = logging.getLogger(__name__)

FORMAT_VERSION = 12
INDEX_MANIFEST = "manifest.json"
STAGING = ".tmp-"  # a folder or file being written: named by no manifest
BUSY_SECONDS = 600  # a staging entry this recent may be another process's save in progress


class IndexFileError(Exception):
    """The saved index is missing, corrupt or from another format: it must be rebuilt."""


def segment_name(number: int) -> str:
    """The folder name of segment `number`."""
    return f"seg-{number:06d}"


def save_index(index: Index, directory: Path) -> None:
    """Write the index's new segments and deletions, then its manifest, into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    next_segment = max(index.next_segment, free_segment_number(directory))
    entries = []
    for segment in index.segments:
        if not segment.name or index.folder != directory or not (directory /
                                                                   segment.name).is_dir():
            name = segment_name(next_segment)
            next_segment += 1
            staging = directory / f"{STAGING}{name}"
            shutil.rmtree(staging, ignore_errors=True)
            segment.checksums = segment.save(staging)
            os.replace(staging, directory / name)
            segment.name = name
            segment.deletions = replace(segment.deletions, file="")  # its file is not here
        entries.append(_entry(segment, directory))
    index.stamp = repr(time.time())
    manifest = {
        "format": FORMAT_VERSION, "created": index.stamp, "params": asdict(index.params),
        "fingerprint": index.fingerprint, "local_names": index.local_names,
        "article_hashes": index.article_hashes, "names_by_content": index.names_by_content,
        "content_keys": index.content_keys, "segments": entries,
        "next_segment": next_segment,
    }
    staging_manifest = directory / f"{STAGING}{INDEX_MANIFEST}"
    staging_manifest.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(staging_manifest, directory / INDEX_MANIFEST)  # the one step that switches
    index.folder, index.next_segment = directory, next_segment
    tidy(directory, entries)


def _entry(segment: Segment, directory: Path) -> dict[str, Any]:
    """The manifest's entry for a segment, its deletions written if they are new."""
    deletions = None
    dropped = segment.deletions
    if len(dropped.articles):
        if not dropped.file or not (directory / dropped.file).exists():
            generation = _next_generation(directory, segment.name)
            name = f"{segment.name}.del-{generation:06d}.json"
            staging = directory / f"{STAGING}{name}"
            checksum = write_bytes(staging, dropped.to_json())
            os.replace(staging, directory / name)
            dropped.file, dropped.checksum = name, checksum
        deletions = {"file": dropped.file, "checksum": dropped.checksum}
    return {"name": segment.name, "checksums": segment.checksums, "deletions": deletions}


def free_segment_number(directory: Path) -> int:
    """A segment number above every one in the folder (named or left over)."""
    numbers = [int(m.group(1)) for p in directory.iterdir()
               if (m := re.search(r"seg-(\d{6})", p.name))]
    return max(numbers, default=0) + 1


def _next_generation(directory: Path, name: str) -> int:
    numbers = [int(m.group(1)) for p in directory.glob(f"{name}.del-*.json")
               if (m := re.search(r"\.del-(\d{6})\.json$", p.name))]
    return max(numbers, default=0) + 1


def tidy(directory: Path, entries: list[dict[str, Any]]) -> list[Path]:
    """Remove what the manifest does not name (old segments, interrupted saves and merges)."""
    kept = {INDEX_MANIFEST, MANIFEST_NAME}
    for entry in entries:
        kept.add(entry["name"])
        if entry["deletions"]:
            kept.add(entry["deletions"]["file"])
    removed = []
    now = time.time()
    for path in directory.iterdir():
        if path.name in kept:
            continue
        if path.name.startswith(STAGING) and now - path.stat().st_mtime < BUSY_SECONDS:
            continue  # perhaps another process saving right now
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def load_index(directory: Path, attempts: int = 3) -> Index:
    """Load a saved index; raise `IndexFileError` if it cannot be trusted.

    Its arrays and texts are mapped, not read: a page is read when a search touches it.
    A manifest replaced while it was read (another process saved) is read again.
    """
    for attempt in range(attempts):
        stamp = saved_stamp(directory)
        try:
            return _load(directory)
        except IndexFileError:
            if attempt + 1 == attempts or saved_stamp(directory) == stamp:
                raise
    raise IndexFileError(f"{directory}: no saved index")  # not reached


def _load(directory: Path) -> Index:
    manifest_path = directory / INDEX_MANIFEST
    if not manifest_path.exists():
        raise IndexFileError(f"{directory}: no saved index")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexFileError(f"{directory}: index format {manifest.get('format')} is not "
                                 f"the current {FORMAT_VERSION}")
        segments = [Segment.load(directory / entry["name"], dict(entry["checksums"]),
                                 _deletions(directory, entry["deletions"]))
                    for entry in manifest["segments"]]
        if not segments:
            raise ValueError("no segment")
        return Index(
            segments=segments, params=BM25Params(**manifest["params"]),
            local_names=list(manifest["local_names"]),
            article_hashes=dict(manifest["article_hashes"]),
            names_by_content=dict(manifest["names_by_content"]),
            fingerprint=str(manifest["fingerprint"]), content_keys=dict(manifest["content_keys"]),
            stamp=str(manifest["created"]), folder=directory,
            next_segment=int(manifest["next_segment"]))
    except IndexFileError:
        raise
    except SegmentFileError as err:
        raise IndexFileError(str(err)) from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise IndexFileError(f"{directory}: saved index is corrupt ({err})") from None


def _deletions(directory: Path, entry: dict[str, str] | None) -> Deletions:
    if entry is None:
        return Deletions()
    path = directory / entry["file"]
    if file_checksum(path) != entry["checksum"]:
        raise SegmentFileError(f"{path}: saved index is corrupt (checksum differs)")
    deletions = Deletions.from_json(path.read_bytes())
    deletions.file, deletions.checksum = entry["file"], entry["checksum"]
    return deletions


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
    """Tidy what an interrupted save of an older format left beside the indexes."""
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
