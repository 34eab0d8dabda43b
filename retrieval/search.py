"""Answer a question with the best passages, or honestly with none."""

import gc
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from corpus.chunk import sentence_spans
from corpus.models import Article, Chunk
from retrieval.bm25 import BM25
from retrieval.index import Index
from retrieval.lexicon import read_synonyms
from retrieval.tokenize import Tokenizer, normalize_for_search
from retrieval.typos import HomophoneFixer

MAX_QUESTION_CHARS = 200
# Synonyms count, but less than the words the resident typed.
SYNONYM_WEIGHT = 0.5
# A passage answers when it holds at least half of the question's information
# (its meaningful words weighted by IDF; a word the corpus never uses weighs most).
MIN_COVERAGE = 0.5
# How many top-scoring passages per wanted hit are checked for coverage.
CANDIDATES_PER_HIT = 10
# A single character (讲, 找, 看) is rarely what a question is about: it counts half.
SINGLE_CHAR_WEIGHT = 0.5


class Hit(BaseModel):
    """One passage that answers the question, with what the reply needs to cite it."""

    model_config = ConfigDict(frozen=True)

    rank: int
    score: float
    coverage: float
    chunk_id: str
    article_id: str
    title: str
    subtitle: str | None
    source: str | None
    date: str | None
    byline: str | None
    url: str | None
    section: str | None
    text: str
    best_sentence: str


@dataclass(frozen=True)
class _Part:
    text: str
    alternatives: tuple[str, ...]

    def found_in(self, text: str) -> bool:
        return self.text in text or any(alt in text for alt in self.alternatives)


@dataclass(frozen=True)
class _Word:
    """A meaningful word of the question: found as written, or every part of it is found."""

    text: str
    weight: float
    parts: tuple[_Part, ...]
    corrected_from: str | None = None

    def found_in(self, text: str) -> bool:
        # No parts: the word can only be found as written.
        return self.text in text or (bool(self.parts) and all(p.found_in(text) for p in self.parts))


class Searcher:
    """Search one index; safe to call from several threads at once."""

    def __init__(self, index: Index, synonyms_path: Path | None = None) -> None:
        self.index = index
        self.tokenizer = Tokenizer(index.local_names)
        self.bm25: BM25 = index.bm25()
        self._positions = {ident: i for i, ident in enumerate(index.article_ids)}
        self._synonyms: dict[str, tuple[str, ...]] = {}
        for group in read_synonyms(synonyms_path):
            for word in group:
                others = tuple(m for m in group if m != word)
                self._synonyms[word] = tuple(dict.fromkeys(self._synonyms.get(word, ()) + others))
        self._lock = threading.Lock()  # jieba's tokenizer is not thread-safe
        self._typos = HomophoneFixer(index.char_df, self._term_df)

    def search(self, question: str, k: int = 3, per_article: bool = True,
               min_coverage: float = MIN_COVERAGE) -> list[Hit]:
        """Return up to k passages that answer `question`, best first; [] means no answer.

        `min_coverage=0` ranks without the no-answer test (for benchmarks).
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        question = question[:MAX_QUESTION_CHARS]
        with self._lock:
            tokens, plain_words = self.tokenizer.analyze(question)
            typed = Counter(tokens)
            words = self._words(plain_words)
            for word in words:
                if word.corrected_from:
                    typed.update(self.tokenizer.tokenize(word.text))
            expansion = self._expansion(words)
        if not words:
            return []
        query = {t: n * (SINGLE_CHAR_WEIGHT if len(t) == 1 else 1.0) for t, n in typed.items()}
        for token, weight in expansion:
            if token not in typed:
                query[token] = query.get(token, 0.0) + weight
        docs, scores = self.bm25.top(query, CANDIDATES_PER_HIT * k)
        return self._answering_hits(docs, scores, words, k, per_article, min_coverage)

    def _answering_hits(self, docs: np.ndarray, scores: np.ndarray, words: list[_Word],
                        k: int, per_article: bool, min_coverage: float) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[int] = set()
        table = self.index.chunks
        for position, doc in enumerate(docs.tolist()):
            article = int(table.article[doc])
            if per_article and article in seen:
                continue
            searchable = self.index.searchable[doc]
            coverage, found = _coverage(words, searchable)
            if coverage < min_coverage:
                continue
            seen.add(article)
            chunk = table[doc]
            article_obj = self.index.articles[article]
            hits.append(self._hit(article_obj, chunk, len(hits) + 1, float(scores[position]),
                                  coverage, best_sentence(chunk.text, searchable, found)))
            if len(hits) == k:
                break
        return hits

    @staticmethod
    def _hit(article: Article, chunk: Chunk, rank: int, score: float, coverage: float,
             sentence: str) -> Hit:
        return Hit(rank=rank, score=score, coverage=coverage, chunk_id=chunk.id,
                   article_id=article.id, title=article.title, subtitle=article.subtitle,
                   source=article.source, date=article.date, byline=article.byline,
                   url=article.url, section=chunk.section, text=chunk.text,
                   best_sentence=sentence)

    def _words(self, plain_words: list[str]) -> list[_Word]:
        """The question's meaningful words, each weighted by how rare it is in the corpus."""
        words = []
        for text in dict.fromkeys(plain_words):
            corrected = self._typos.correct(text)
            if corrected:
                words.append(_Word(corrected, self._information(corrected),
                                   self._parts(corrected), corrected_from=text))
            else:
                words.append(_Word(text, self._information(text), self._parts(text)))
        return words

    def _term_df(self, term: str) -> int:
        """How many chunks hold `term` as a token (0 if none)."""
        index = self.bm25.term_ids.get(term)
        return 0 if index is None else int(self.bm25.doc_freq[index])

    def _synonyms_of(self, word: str) -> tuple[str, ...]:
        return self._synonyms.get(word, ())

    def _parts(self, word: str) -> tuple[_Part, ...]:
        """Split a compound word into its largest sub-words (老年人活动区: 老年人, 活动区).

        No parts (an empty tuple): the word counts only as written.
        """
        if word in self._synonyms:
            return (_Part(word, self._synonyms[word]),)
        subwords = {t for t in self.tokenizer.subwords(word) if self.tokenizer.keep(t)}
        largest = [t for t in subwords if not any(t != o and t in o for o in subwords)]
        if not largest:
            return ()
        return tuple(_Part(t, self._synonyms_of(t)) for t in sorted(largest, key=word.find))

    def _information(self, word: str) -> float:
        """IDF of a word; one the corpus never uses gets the largest."""
        n = self.bm25.corpus_size
        df = self._term_df(word)
        if not df:
            # No term for it (看 inside 观看): at most as common as its rarest character.
            df = min(self.index.char_df.get(char, 0) for char in word)
        idf = math.log((n + 1) / (df + 0.5))
        return idf * SINGLE_CHAR_WEIGHT if len(word) == 1 else idf

    def _expansion(self, words: list[_Word]) -> list[tuple[str, float]]:
        tokens: list[tuple[str, float]] = []
        for word in words:
            for part in word.parts:
                for alternative in part.alternatives:
                    phrase = self.tokenizer.tokenize(alternative)
                    # A synonym phrase weighs SYNONYM_WEIGHT in all, however many tokens it has.
                    tokens.extend((t, SYNONYM_WEIGHT / len(phrase)) for t in phrase)
        return tokens

    def article(self, article_id: str) -> Article | None:
        """Return an article of the index by id, if it is still there."""
        position = self._positions.get(article_id)
        return None if position is None else self.index.articles[position]

    def term_frequency(self, term: str) -> int:
        """How many passages hold `term` as a token."""
        return self._term_df(term)


def _coverage(words: list[_Word], text: str) -> tuple[float, list[_Word]]:
    """Return the share of the question's information found in `text`, and the words found.

    The information is the question's words weighted by IDF.
    """
    total = sum(w.weight for w in words)
    found = [word for word in words if word.found_in(text)]
    return (sum(w.weight for w in found) / total if total else 0.0), found


def freeze_loaded_objects() -> None:
    """Move everything loaded so far out of the garbage collector's sight (gc.freeze).

    A loaded index is hundreds of thousands of long-lived objects; without this,
    each full collection walks them all in the middle of some question.
    """
    gc.collect()
    gc.freeze()


def best_sentence(text: str, searchable: str, words: list[_Word]) -> str:
    """Return the sentence of `text` that covers most of the question's `words`.

    `searchable` is the chunk's normalised form, text last; its sentences stand
    for the text's when they split alike, else each sentence is normalised.
    """
    spans = sentence_spans(text)
    sentences = [text[a:b] for a, b in spans]
    tail = searchable.rsplit("\n", 1)[-1]
    if len(tail) == len(text):  # normalising kept every offset: slice the same spans
        normalised = [tail[a:b] for a, b in spans]
    else:
        normalised = [normalize_for_search(s) for s in sentences]
    scored = [(sum(w.weight for w in words if w.found_in(n)), -i, s)
              for i, (s, n) in enumerate(zip(sentences, normalised, strict=True))]
    return max(scored)[2] if scored else text
