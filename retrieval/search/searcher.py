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
from retrieval.search.features import Passages, as_shown, describe, information_share
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
    CONTEXT_WEIGHT,
    MAX_QUESTION_CHARS,
    Question,
    QuestionReader,
    with_context,
)
from retrieval.search.recency import newer_first
from retrieval.text.pairs import PairField, length_norms
from retrieval.text.tokenize import Tokenizer, normalize_for_search

# How many top-scoring passages per wanted hit are looked at...
CANDIDATES_PER_HIT = 10
# The character-pair field's weight beside the words' (each field a share of its most
# possible score). Measured on the gov dev halves split A/B by article and on CMRC 2018,
# rescoring the word field's top 30 (R@1 A / B): 1.0 gave messages .624/.669, policy
# .862/.838, CMRC .973/.978; 1.5 gave .630/.669, .862/.841, .976/.977; 2.0 and 3.0
# traded CMRC for policy B; k1 and b of the pair field moved nothing beyond noise and
# stay the word field's (issue 19; the lab log is quoted in the commit).
PAIR_WEIGHT = 1.5
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
        self.pairs = PairField(index.pair_counts(), self.bm25.corpus_size, index.params.k1,
                               index.params.b) if self.tuning.pairs else None
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
        if features.coverage < CLOSEST_FLOOR:
            return Answer(outcome=Outcome.NOTHING, confidence=self.gate.confidence(features),
                          hits=[], features=features)
        # Of two about equally good sources, the newer first.
        as_seen: dict[str, str] = {}  # each hit's title, section and passage shown, normalised
        hits = newer_first(self._hits(parsed, docs, scores, k, per_article, as_seen=as_seen))
        # What the resident is shown decides: the hours asked for in a later passage count.
        features = as_shown(features, parsed, as_seen[hits[0].chunk_id],
                            self.reader.names_place)
        confidence = self.gate.confidence(features)
        if self.gate.answers(features):
            outcome = Outcome.ANSWERED
        else:
            outcome, hits = Outcome.CLOSEST, hits[:1]
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
        if self.pairs is not None and len(docs):
            docs, scores = self._with_pairs(self.pairs, parsed, context, docs, scores)
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

    def _with_pairs(self, pairs: PairField, parsed: Question, context: str | None,
                    docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rescore the word field's best windows with the character-pair field, best first.

        Each field counts as a share of its most possible score; their sum is brought back
        to the word field's scale (its maximum stays the most a window can score), so the
        gate's gap and score features keep their meaning.
        """
        asked = [(parsed.text, 1.0)]
        if context:
            asked.append((normalize_for_search(context[:MAX_QUESTION_CHARS]), CONTEXT_WEIGHT))
        query = pairs.query(asked)
        if not query.maximum:
            return docs, scores
        # Each window as its passage and the neighbours it joins (-1: none), as positions
        # in the sorted distinct passages whose texts are read.
        before, after = self.passages.neighbours(docs)
        chunks, windows = np.unique(np.stack([before, docs, after], axis=1),
                                    return_inverse=True)
        windows = windows.reshape(len(docs), 3)
        if len(chunks) and chunks[0] < 0:  # no neighbour (-1) sorts first: it stays -1
            chunks, windows = chunks[1:], windows - 1
        texts = self.passages.searchables(parsed, chunks.tolist())
        # The windows' lengths from whichever segment holds each passage.
        norms = length_norms(self.bm25.doc_lengths(docs), np.arange(len(docs)),
                             self.index.params.b, self.bm25.avgdl)
        maximum = self.bm25.max_score(parsed.query) or 1.0
        fused = (scores / maximum + PAIR_WEIGHT * pairs.scores(query, texts, windows, norms)) / (
            1.0 + PAIR_WEIGHT)
        order = np.argsort(-fused, kind="stable")
        return docs[order], fused[order] * maximum

    def weighted_words(self, question: str) -> list[tuple[str, float, bool]]:
        """The question's meaningful words in order: (word, weight, known to the index)."""
        return [(w.text, w.weight, w.known)
                for w in self.reader.parse(question[:MAX_QUESTION_CHARS]).words]

    def _hits(self, parsed: Question, docs: np.ndarray, scores: np.ndarray, k: int,
              per_article: bool, relevant_only: bool = True,
              as_seen: dict[str, str] | None = None) -> list[Hit]:
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
                                  float(scores[position]), as_seen))
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

    def _hit(self, parsed: Question, doc: int, rank: int, score: float,
             as_seen: dict[str, str] | None = None) -> Hit:
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
        extra, after, bold, extra_rating, extra_normal = None, True, sentence, (0.0, 0.0), ""
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
                extra_normal = candidate_normal
        if extra and extra_rating[1] > value:
            bold = extra
        elif parsed.wants is not None and parsed.wants.name == "place" and place is not None:
            bold = with_the_place(*self.passages.sentences(parsed, doc),
                                  self.index.chunks.text(doc), sentence, place)
        if as_seen is not None:  # the searchable text is the title, section and passage
            as_seen[chunk.id] = f"{searchable}\n{extra_normal}" if extra else searchable
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
