"""Answer a question with the best passages, with a confidence, or honestly with none.

Holds `Searcher`: candidates from BM25, the gate's verdict, one hit per source with
its bold sentence. May import corpus's models, `retrieval.bm25`, `retrieval.index`,
`retrieval.text` and every other module of `retrieval.search` except followup.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.models import Article, Chunk
from retrieval.bm25 import BM25
from retrieval.index import Index
from retrieval.search.features import Passages, describe, information_share
from retrieval.search.gate import CLOSEST_FLOOR, COVERAGE_FLOOR, Features, Gate
from retrieval.search.highlight import (
    best_sentence,
    place_test,
    sentence_value,
    with_the_place,
)
from retrieval.search.kinds import trie_pattern
from retrieval.search.models import Answer, Hit, Outcome, Tuning
from retrieval.search.question import (
    MAX_QUESTION_CHARS,
    Question,
    QuestionReader,
    with_context,
)
from retrieval.search.recency import newer_first
from retrieval.text.tokenize import Tokenizer

# How many top-scoring passages per wanted hit are looked at...
CANDIDATES_PER_HIT = 10
# ...and how many articles per wanted hit are checked to hold the question too.
OTHER_SOURCES_CHECKED = 2


@dataclass(frozen=True)
class Probed:
    """The gate's view of a question: its features, the best article, the passages ranked."""

    features: Features | None
    article: int | None  # the best passage's article, by position in the index
    candidates: tuple[str, ...]  # the normalised texts of the passages ranked, best first


class Searcher:
    """Search one index; safe to call from several threads at once."""

    def __init__(self, index: Index, synonyms_path: Path | None = None,
                 gate: Gate | None = None, tuning: Tuning | None = None) -> None:
        self.index = index
        self.tuning = tuning or Tuning()
        self.gate = gate or Gate.load()
        self.tokenizer = Tokenizer(index.local_names)
        self.bm25: BM25 = index.bm25()
        self._positions = {ident: i for i, ident in enumerate(index.article_ids)}
        self.reader = QuestionReader(index, self.bm25, self.tokenizer, self.tuning, synonyms_path)
        self.passages = Passages(index)
        # One pattern for every local name, the longest at each place: a sentence is scanned once.
        self._names = re.compile(trie_pattern(index.local_names)) if index.local_names else None

    def search(self, question: str, k: int = 3, per_article: bool = True) -> list[Hit]:
        """Return up to k passages that answer `question`, best first; [] if not confident."""
        answer = self.answer(question, k, per_article)
        return answer.hits if answer.answered else []

    def rank(self, question: str, k: int = 10) -> list[Hit]:
        """Return the k best passages, one per article, whatever the confidence (benchmarks)."""
        parsed, docs, scores = self._candidates(question, None, k)
        return self._hits(parsed, docs, scores, k, per_article=True, relevant_only=False)

    def answer(self, question: str, k: int = 3, per_article: bool = True,
               context: str | None = None) -> Answer:
        """Search `question`: answered, the closest match, or nothing, with a confidence.

        `context`: the question this one follows up; its words count CONTEXT_WEIGHT as much.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        parsed, docs, scores = self._candidates(question, context, k)
        if not len(docs):
            return Answer(outcome=Outcome.NOTHING, confidence=0.0, hits=[])
        features = describe(parsed, docs, scores, self.bm25, self.passages,
                            self.reader.names_place)
        confidence = self.gate.confidence(features)
        if self.gate.answers(features):
            outcome = Outcome.ANSWERED
        elif features.coverage >= CLOSEST_FLOOR:
            outcome = Outcome.CLOSEST
        else:
            return Answer(outcome=Outcome.NOTHING, confidence=confidence, hits=[],
                          features=features)
        hits = self._hits(parsed, docs, scores, k if outcome is Outcome.ANSWERED else 1,
                          per_article)
        hits = newer_first(hits)  # of two about equally good sources, the newer first
        return Answer(outcome=outcome, confidence=confidence, hits=hits, features=features)

    def _candidates(self, question: str, context: str | None, k: int,
                    without: int | None = None) -> tuple[Question, np.ndarray, np.ndarray]:
        """Parse the question and return its best passages with scores above the baseline.

        `without`: an article's position whose passages are left out (the self-test).
        """
        parsed = self.reader.parse(question[:MAX_QUESTION_CHARS])
        if context:
            parsed = with_context(parsed, self.reader.parse(context[:MAX_QUESTION_CHARS]))
        if not parsed.words or not parsed.query:
            return parsed, np.empty(0, dtype=np.int64), np.empty(0)
        wanted = CANDIDATES_PER_HIT * k
        docs, scores = self.bm25.top(parsed.query, wanted * (3 if without is not None else 1),
                                     above_baseline=True)
        if without is not None:
            kept = self.index.chunks.article[docs] != without
            docs, scores = docs[kept][:wanted], scores[kept][:wanted]
        return parsed, docs, scores

    def features(self, question: str, without: int | None = None) -> Probed:
        """Describe the best passage for the gate, optionally as if an article were gone."""
        parsed, docs, scores = self._candidates(question, None, 3, without)
        if not len(docs):
            return Probed(None, None, ())
        return Probed(describe(parsed, docs, scores, self.bm25, self.passages,
                               self.reader.names_place),
                      int(self.index.chunks.article[int(docs[0])]),
                      tuple(self.passages.searchable(parsed, int(d)) for d in docs))

    def weighted_words(self, question: str) -> list[tuple[str, float, bool]]:
        """The question's meaningful words in order: (word, weight, known to the index)."""
        return [(w.text, w.weight, w.known)
                for w in self.reader.parse(question[:MAX_QUESTION_CHARS]).words]

    def _hits(self, parsed: Question, docs: np.ndarray, scores: np.ndarray, k: int,
              per_article: bool, relevant_only: bool = True) -> list[Hit]:
        hits: list[Hit] = []
        seen: set[int] = set()
        shown: set[str] = set()  # the windows already shown, by their text
        table = self.index.chunks
        for position, doc in enumerate(docs.tolist()):
            article = int(table.article[doc])
            if per_article and article in seen:
                continue
            seen.add(article)
            if relevant_only and hits:
                if len(seen) > OTHER_SOURCES_CHECKED * k:
                    break  # sources ranked this low are not worth a coverage check
                if self.passages.window_text(parsed, doc) in shown:
                    continue  # the same report printed again elsewhere: shown once
                if self.passages.window_share(parsed, doc) < COVERAGE_FLOOR:
                    continue  # further sources must hold the question too, not just score
            if relevant_only:
                shown.add(self.passages.window_text(parsed, doc))
            if per_article:
                position = self._holding_the_kind(parsed, docs, position)
            hits.append(self._hit(parsed, int(docs[position]), len(hits) + 1,
                                  float(scores[position])))
            if len(hits) == k:
                break
        return hits

    def _holding_the_kind(self, parsed: Question, docs: np.ndarray, position: int) -> int:
        """The article's best passage, or a later one of it holding the kind of answer asked.

        表彰了哪些先进: the passage that lists them may score below the one that names the
        meeting; it is taken if it holds as much of the question.
        """
        test = place_test(parsed, self._names)
        doc = int(docs[position])
        if test is None or test(self.passages.window_text(parsed, doc)):
            return position
        article, share = self.index.chunks.article[doc], self.passages.window_share(parsed, doc)
        for later in range(position + 1, len(docs)):
            other = int(docs[later])
            if (self.index.chunks.article[other] == article
                    and self.passages.window_share(parsed, other) >= share
                    and test(self.passages.window_text(parsed, other))):
                return later
        return position

    def _hit(self, parsed: Question, doc: int, rank: int, score: float) -> Hit:
        """Make the hit for a window: it shows the window's chunk that holds most of the words."""
        coverage = self.passages.window_share(parsed, doc)
        place = place_test(parsed, self._names)
        table = self.index.chunks
        best: dict[int, tuple[str, float, str]] = {}

        def best_of(i: int) -> tuple[str, float, str]:
            if i not in best:
                best[i] = best_sentence(*self.passages.sentences(parsed, i), parsed.words, place)
            return best[i]

        def preference(i: int) -> tuple[float, float, bool]:
            share = information_share(parsed.words, self.passages.searchable(parsed, i))
            # A chunk holding none of the words has no sentence worth anything: not split.
            return (best_of(i)[1] if place and share else 0.0), share, i == doc

        # The chunk shown holds most of the words; for a question wanting a kind of answer,
        # the one whose best sentence holds the words with the kind (a place, a date).
        doc = max(self.passages.window(doc), key=preference)
        chunk = table[doc]
        article = self.index.articles[int(table.article[doc])]
        searchable = self.passages.searchable(parsed, doc)
        sentence, value, _ = best_of(doc)
        # Words the passage lacks may sit in a neighbour's sentence: the answer continues there.
        lacking = [w for w in parsed.words if w.match(searchable) < 1.0]
        extra, after, bold, extra_rating = None, True, sentence, (0.0, 0.0)
        for neighbour in self.passages.window(doc) if lacking else []:
            if neighbour == doc or not any(w.match(self.passages.searchable(parsed, neighbour))
                                           for w in lacking):
                continue  # no sentence of it can add a lacking word
            candidate, adds, candidate_normal = best_sentence(
                *self.passages.sentences(parsed, neighbour), lacking, place)
            # Of two that add as much, the one holding more of the whole question wins.
            rating = (adds, sentence_value(candidate_normal, parsed.words, place))
            if adds > 0 and rating > extra_rating:
                extra, after, extra_rating = candidate, neighbour > doc, rating
        if extra and extra_rating[1] > value:
            bold = extra
        elif parsed.wants is not None and parsed.wants.name == "place" and place is not None:
            bold = with_the_place(*self.passages.sentences(parsed, doc),
                                  self.index.chunks.text(doc), sentence, place)
        return _make_hit(article, chunk, rank, score, coverage, bold, extra, after)

    def article(self, article_id: str) -> Article | None:
        """Return an article of the index by id, if it is still there."""
        position = self._positions.get(article_id)
        return None if position is None else self.index.articles[position]

    def term_frequency(self, term: str) -> int:
        """How many passages hold `term` as a token."""
        return self.reader.term_df(term)


def _make_hit(article: Article, chunk: Chunk, rank: int, score: float, coverage: float,
              sentence: str, extra: str | None, after: bool) -> Hit:
    # Every field comes from the index's own, already validated, articles and chunks.
    return Hit.model_construct(rank=rank, score=score, coverage=coverage, chunk_id=chunk.id,
                               article_id=article.id, title=article.title,
                               subtitle=article.subtitle, source=article.source,
                               date=article.date, byline=article.byline, url=article.url,
                               section=chunk.section, text=chunk.text, best_sentence=sentence,
                               extra_sentence=extra, extra_after=after)
