"""The index: segments of passages, tokens and BM25 postings, refreshed where the corpus changed.

This module gathers the index's public names: the model (`retrieval/segmented.py`,
one segment in `retrieval/segment.py`), building (`retrieval/build.py`), saving and
loading (`retrieval/store.py`), refreshing and merging (`retrieval/refresh.py`,
`retrieval/merge.py`).
"""

from retrieval.build import (
    article_hash,
    build_index,
    chunk_key,
    searchable_text,
    window_documents,
    window_postings,
)
from retrieval.refresh import RefreshReport, index_dir_for, refresh_index
from retrieval.segmented import Index
from retrieval.store import FORMAT_VERSION, IndexFileError, remove_leftovers

SHOWN_NAMES = 10  # reports name this many added / changed / removed articles, then count

__all__ = ["FORMAT_VERSION", "SHOWN_NAMES", "Index", "IndexFileError", "RefreshReport",
           "article_hash", "build_index", "chunk_key", "index_dir_for", "refresh_index",
           "remove_leftovers", "searchable_text", "window_documents",
           "window_postings"]
