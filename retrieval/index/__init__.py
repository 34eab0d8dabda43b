"""The saved index: build, save, load and refresh it; re-exports the public names.

Rooms: `model` (the `Index` in memory, its save and load), `store` (file format,
checksums, leftovers), `build` (chunk, tokenise, count), `refresh` (reuse, splice or
rebuild), `splice` (the incremental refresh), `manifest` (the corpus as last scanned),
`columns` (what is read on demand), `workers` (processes), `report` (`RefreshReport`).
May import corpus, `retrieval.bm25`, `retrieval.collector` and `retrieval.text`; never
`retrieval.search` or `retrieval.evaluation`.
"""

from retrieval.index.build import (
    Progress,
    article_hash,
    build_index,
    chunk_key,
    same_passage,
    searchable_text,
    window_documents,
    window_postings,
)
from retrieval.index.model import Index
from retrieval.index.refresh import index_dir_for, refresh_index
from retrieval.index.report import SHOWN_NAMES, RefreshReport
from retrieval.index.store import FORMAT_VERSION, IndexFileError, remove_leftovers

__all__ = [
    "FORMAT_VERSION",
    "SHOWN_NAMES",
    "Index",
    "IndexFileError",
    "Progress",
    "RefreshReport",
    "article_hash",
    "build_index",
    "chunk_key",
    "index_dir_for",
    "refresh_index",
    "remove_leftovers",
    "same_passage",
    "searchable_text",
    "window_documents",
    "window_postings",
]
