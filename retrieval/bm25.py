"""BM25 over an inverted index: rank-bm25's scores, at the cost of the query's postings.

rank-bm25 defines the scores (`BM25Okapi`, `BM25L`, `BM25Plus`); its `get_scores`
walks every document in Python. Here each term's postings (documents and term
frequencies) sit in CSR arrays, and a query touches only its terms' postings.
Imports only numpy and the standard library.
"""

import math
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Variant = Literal["okapi", "l", "plus"]
# Postings weighed at a time: a block's temporaries stay in the cache (twice as fast as 1 << 20).
GAIN_BLOCK = 1 << 16
SEARCH_COST = 8  # a binary search per candidate costs about this many postings walked
CLEAR_WHOLE = 32  # clearing a touched entry costs about as much as this many of the whole


@dataclass(frozen=True)
class BM25Params:
    """Which BM25 and its parameters (k1 1.2: Lucene's default, measured best on CMRC 2018)."""

    variant: Variant = "plus"
    k1: float = 1.2
    b: float = 0.75
    delta: float = 1.0
    epsilon: float = 0.25


@dataclass
class Postings:
    """Term postings in CSR form: term t's documents are doc_ids[indptr[t]:indptr[t+1]]."""

    terms: list[str]
    indptr: NDArray[np.int64]
    doc_ids: NDArray[np.int32]
    tfs: NDArray[np.int32]
    doc_len: NDArray[np.int32]

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> "Postings":
        """Count each document's terms and lay the postings out term by term."""
        vocabulary: dict[str, int] = {}
        term_ids: list[int] = []
        doc_ids: list[int] = []
        tfs: list[int] = []
        for doc, tokens in enumerate(documents):
            for term, tf in Counter(tokens).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                doc_ids.append(doc)
                tfs.append(tf)
        order = np.argsort(np.asarray(term_ids, dtype=np.int64), kind="stable")
        counts = np.bincount(np.asarray(term_ids, dtype=np.int64), minlength=len(vocabulary))
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(
            terms=list(vocabulary),
            indptr=indptr,
            doc_ids=np.asarray(doc_ids, dtype=np.int32)[order],
            tfs=np.asarray(tfs, dtype=np.int32)[order],
            doc_len=np.asarray([len(d) for d in documents], dtype=np.int32),
        )

    @property
    def doc_freq(self) -> NDArray[np.int64]:
        """How many documents hold each term."""
        return np.diff(self.indptr)


class BM25:
    """Scores equal to rank-bm25's `get_scores`, computed from postings."""

    def __init__(self, postings: Postings, params: BM25Params,
                 arrays: Mapping[str, NDArray[np.float64]] | None = None) -> None:
        """Score `postings`; `arrays` are those `arrays()` gave before, saved with the index."""
        if len(postings.doc_len) == 0:
            raise ValueError("cannot score an empty index: it has no documents")
        self.postings, self.params = postings, params
        self.term_ids = {term: i for i, term in enumerate(postings.terms)}
        self.corpus_size = len(postings.doc_len)
        self.avgdl = float(postings.doc_len.sum()) / self.corpus_size
        self.doc_freq = postings.doc_freq
        self._buffers = threading.local()
        self._absent_weight = params.delta if params.variant == "plus" else 0.0
        if arrays is not None:
            self.idf, self._gain, self._max_gain = (
                arrays["idf"], arrays["gain"], arrays["max_gain"])
            return
        self.idf = self._idf(self.doc_freq.astype(np.float64))
        # What holding the term adds over not holding it (the part postings carry), per
        # posting; a block at a time, so that no temporary is as long as all the postings.
        # Computed in float64, kept in float32: half the memory a question's pages take;
        # `top` adds them up in float32 too (scores within 1e-6 of rank-bm25's, the order
        # of passages that close apart may differ; bounds are the kept gains).
        self._gain = np.empty(len(postings.doc_ids), dtype=np.float32)
        p = params
        norm = 1 - p.b + p.b * postings.doc_len.astype(np.float64) / self.avgdl
        k1_norm = p.k1 * norm
        for start in range(0, len(self._gain), GAIN_BLOCK):
            end = min(start + GAIN_BLOCK, len(self._gain))
            block = self._posting_weight(start, end, norm, k1_norm)
            block -= self._absent_weight
            block *= self._idf_of_postings(start, end)
            self._gain[start:end] = block
        # The most any document gains from each term: bounds for skipping long postings.
        self._max_gain = (np.maximum.reduceat(self._gain, postings.indptr[:-1])
                          if len(self._gain) else np.zeros(0))

    def arrays(self) -> dict[str, NDArray[np.float64]]:
        """The computed arrays, to save with the index and pass back in."""
        return {"idf": self.idf, "gain": self._gain, "max_gain": self._max_gain}

    def _idf(self, df: NDArray[np.float64]) -> NDArray[np.float64]:
        n, p = self.corpus_size, self.params
        if p.variant == "okapi":
            idf = np.log(n - df + 0.5) - np.log(df + 0.5)
            floor = p.epsilon * (idf.sum() / len(idf)) if len(idf) else 0.0
            return np.where(idf < 0, floor, idf)
        if p.variant == "l":
            return math.log(n + 1) - np.log(df + 0.5)
        return np.log((n + 1) / df)

    def _posting_weight(self, start: int, end: int, norm: NDArray[np.float64],
                        k1_norm: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the term-frequency part of postings start:end (`norm`: each document's).

        A document without the term gets `_absent_weight`: delta for BM25Plus, else 0.
        `k1_norm` is k1 * norm. Gathered with `take`: numpy 2 indexes with int32 ids
        four times slower.
        """
        p, post = self.params, self.postings
        tf = post.tfs[start:end].astype(np.float64)
        docs = post.doc_ids[start:end]
        if p.variant == "okapi":
            weight: NDArray[np.float64] = tf * (p.k1 + 1) / (tf + k1_norm.take(docs))
        elif p.variant == "l":
            ctd = tf / norm.take(docs)
            weight = tf * (p.k1 + 1) * (ctd + p.delta) / (p.k1 + ctd + p.delta)
        else:
            weight = k1_norm.take(docs)
            weight += tf
            tf *= p.k1 + 1
            np.divide(tf, weight, out=weight)
            weight += p.delta
        return weight

    def _idf_of_postings(self, start: int, end: int) -> NDArray[np.float64]:
        """Return the IDF of each posting start:end's term."""
        indptr = self.postings.indptr
        first = int(np.searchsorted(indptr, start, side="right")) - 1
        last = int(np.searchsorted(indptr, end - 1, side="right")) - 1
        bounds = np.clip(indptr[first : last + 2], start, end)
        return np.repeat(self.idf[first : last + 1], np.diff(bounds))

    def query_terms(self, query: Mapping[str, float]) -> list[tuple[int, float]]:
        """Keep the query's terms that the index knows, with their weights."""
        return [(self.term_ids[t], w) for t, w in query.items() if t in self.term_ids and w]

    def _accumulate(self, query: Mapping[str, float],
                    ) -> tuple[NDArray[np.float64], list[NDArray[np.int32]]]:
        """Add up each query term's postings; return the sums and the postings touched."""
        sums = np.zeros(self.corpus_size)  # calloc: pages stay untouched until written
        touched = []
        for term, weight in self.query_terms(query):
            start, end = self.postings.indptr[term], self.postings.indptr[term + 1]
            ids = self.postings.doc_ids[start:end]
            # A document appears once in a term's postings, so += on the fancy index is exact.
            sums[ids] += weight * self._gain[start:end]
            touched.append(ids)
        return sums, touched

    def score(self, query: Mapping[str, float]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return every document holding a query term, and its score.

        `query` maps terms to weights (a term typed twice weighs 2, as in
        rank-bm25); documents outside the result score `self.baseline(query)`.
        """
        sums, touched = self._accumulate(query)
        if not touched:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        docs = _distinct(np.concatenate(touched)).astype(np.int64)
        return docs, sums[docs] + self.baseline(query)

    def top(self, query: Mapping[str, float], n: int, long_postings: int = 4096,
            above_baseline: bool = False) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the n best documents (fewer if fewer match), best first, with exact scores.

        Terms go rarest-first (by the most they can add). Before a term with more
        than `long_postings` postings, if all the remaining terms together cannot
        lift an unseen document past the current n-th best, the remaining terms
        only add to the documents that still can make it (MaxScore), found by
        binary search in the long postings instead of walking them whole.
        `above_baseline`: scores less `baseline(query)`, what the postings added.
        """
        max_gain = self._max_gain
        terms = sorted(((t, w, w * float(max_gain[t])) for t, w in self.query_terms(query)),
                       key=lambda twb: -twb[2])
        # What the terms from each one on can add at most, rarest first.
        rest = list(accumulate(b for _, _, b in reversed(terms)))[::-1]
        sums = self._sums()
        found: list[NDArray[np.int32]] = []
        try:
            best = self._top([(t, w) for t, w, _ in terms], rest, sums, found, n, long_postings)
            scores = sums[best].astype(np.float64)
            return best, scores if above_baseline else scores + self.baseline(query)
        finally:
            # Leave the buffer all zeros for the next question: clearing it whole is
            # cheaper than clearing what was touched once that is a large enough share.
            if sum(len(ids) for ids in found) * CLEAR_WHOLE > len(sums):
                sums.fill(0.0)
            else:
                for touched in found:
                    sums[touched] = 0.0

    def _sums(self) -> NDArray[np.float32]:
        """This thread's score buffer: reused, so a question pays no fresh page faults."""
        sums: NDArray[np.float32] | None = getattr(self._buffers, "sums", None)
        if sums is None:
            sums = self._buffers.sums = np.zeros(self.corpus_size, dtype=np.float32)
        return sums

    def _top(self, terms: list[tuple[int, float]], rest: list[float],
             sums: NDArray[np.float32], found: list[NDArray[np.int32]], n: int,
             long_postings: int) -> NDArray[np.int64]:
        candidates: NDArray[np.int64] | None = None
        indptr = self.postings.indptr
        lengths = [int(indptr[t + 1] - indptr[t]) for t, _ in terms]
        ahead = sum(lengths)  # postings of this term and the ones after it
        walked = 0
        for i, (term, weight) in enumerate(terms):
            start, end = indptr[term], indptr[term + 1]
            ids = self.postings.doc_ids[start:end]
            # Trying to skip costs about the postings walked so far; walking costs those
            # ahead: try only when a long term comes and more lies ahead than behind.
            if (candidates is None and found and end - start > long_postings
                    and ahead > walked):
                candidates = self._still_possible(found, sums, n, rest[i])
            ahead -= lengths[i]
            walked += lengths[i]
            if candidates is None or end - start <= SEARCH_COST * len(candidates):
                # Walking the term whole is cheaper than searching it (or no skipping yet).
                # np.add.at: numpy indexes with int32 ids four times slower than add.at adds.
                gain = self._gain[start:end]
                np.add.at(sums, ids, gain if weight == 1.0 else weight * gain)
                found.append(ids)
                continue
            where = np.searchsorted(ids, candidates)
            where[where == len(ids)] = 0
            hit = ids[where] == candidates
            sums[candidates[hit]] += weight * self._gain[start + where[hit]]
        if candidates is None:
            if not found:
                return np.empty(0, dtype=np.int64)
            return _best(np.concatenate(found), sums, n, len(found))
        return candidates[np.argsort(-sums[candidates], kind="stable")[:n]]

    @staticmethod
    def _still_possible(found: list[NDArray[np.int32]], sums: NDArray[np.float32], n: int,
                        rest: float) -> NDArray[np.int64] | None:
        """The documents that can still reach the top n, if no unseen one can; else None."""
        seen = np.concatenate(found)
        best = _best(seen, sums, n, len(found))
        if len(best) < n:
            return None
        threshold = sums[best[-1]]
        if rest >= threshold:
            return None
        return _distinct(seen[sums.take(seen) + rest >= threshold]).astype(np.int64)

    def baseline(self, query: Mapping[str, float]) -> float:
        """The score of a document that holds none of the query's terms."""
        if not self._absent_weight:
            return 0.0
        return float(sum(w * self.idf[t] * self._absent_weight for t, w in self.query_terms(query)))

    def max_score(self, query: Mapping[str, float]) -> float:
        """The most a document can score above `baseline` (every term at saturation)."""
        saturated = self.params.k1 + 1
        return float(sum(w * self.idf[t] * saturated for t, w in self.query_terms(query)))

    def all_scores(self, query: Mapping[str, float]) -> NDArray[np.float64]:
        """Return every document's score (for tests against rank-bm25)."""
        full = np.full(self.corpus_size, self.baseline(query))
        docs, scores = self.score(query)
        full[docs] = scores
        return full


def _best(ids: NDArray[np.int32], sums: NDArray[np.float32], n: int,
          repeats: int) -> NDArray[np.int64]:
    """Return the n distinct ids with the largest sums, best first.

    An id is listed at most `repeats` times (once per term), so the top
    n * repeats entries hold the n best distinct ids.
    """
    enough = n * repeats
    if len(ids) > enough:
        ids = ids[np.argpartition(-sums.take(ids), enough - 1)[:enough]]
    distinct = _distinct(ids)
    return distinct[np.argsort(-sums[distinct], kind="stable")[:n]].astype(np.int64)


def _distinct(ids: NDArray[np.int32]) -> NDArray[np.int32]:
    """Return the sorted distinct ids: np.unique's result.

    numpy 2's np.unique goes through a hash table, ten times slower than sorting on
    the few thousand ids a question's postings hold (2.4 ms against 0.18 ms at 15,000).
    """
    ordered = np.sort(ids)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
