"""Read CMRC 2018 as converted for retrieval: contexts as articles, and the questions.

The reader the benchmark and the calibration share. Imports only corpus's models.
"""

import json
from pathlib import Path

from corpus.models import Article, CorpusError, Section


def read_cmrc(data: Path) -> tuple[list[Article], list[dict[str, str]]]:
    """Read the converted CMRC 2018 files as articles (one per context) and queries."""
    corpus_file, queries_file = data / "cmrc_corpus.jsonl", data / "cmrc_queries.jsonl"
    for path in (corpus_file, queries_file):
        if not path.exists():
            raise CorpusError(f"{path}: not found; --data must name the folder holding "
                              "cmrc_corpus.jsonl and cmrc_queries.jsonl")
    with corpus_file.open(encoding="utf-8") as lines:
        contexts = [json.loads(line) for line in lines if line.strip()]
    with queries_file.open(encoding="utf-8") as lines:
        queries = [json.loads(line) for line in lines if line.strip()]
    articles = [Article(id=c["id"], title="", sections=(Section(paragraphs=(c["text"],)),))
                for c in contexts]
    return articles, queries
