"""Articles on disk: load and validate them, normalise their text, cut them into chunks."""

from corpus.chunk import chunk_article, chunk_corpus, split_sentences
from corpus.load import CorpusLoad, load_corpus
from corpus.models import Article, Chunk, CorpusError, Problem, Section
from corpus.paths import BUNDLED_CORPUS
from corpus.text import normalize_text

__all__ = [
    "BUNDLED_CORPUS",
    "Article",
    "Chunk",
    "CorpusError",
    "CorpusLoad",
    "Problem",
    "Section",
    "chunk_article",
    "chunk_corpus",
    "load_corpus",
    "normalize_text",
    "split_sentences",
]
