"""What the gate weighs: a question's best passage described as `Features`.

Holds `Passages` (a chunk's window of neighbours, its texts and sentences, memoised
per question), `describe` and the coverage measures. May import numpy,
`retrieval.bm25`, `retrieval.index` and the search package's gate, kinds, question
and highlight.
"""

import math
import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from retrieval.bm25 import BM25
from retrieval.index import Index
from retrieval.search.gate import Features
from retrieval.search.highlight import split_normalised
from retrieval.search.kinds import action_asked, kind_missing
from retrieval.search.question import Question, Word

_WORD_CHARS = re.compile(r"\w")


class Passages:
    """The index's chunks as windows (a chunk with its neighbours in the same section)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        chunks = index.chunks
        same = ((chunks.article[1:] == chunks.article[:-1])
                & (chunks.section[1:] == chunks.section[:-1]))
        self._joined = np.concatenate([[False], same])  # chunk i continues chunk i - 1

    def window(self, doc: int) -> list[int]:
        """The chunk with its neighbours in the same section, in order."""
        window = [doc]
        if self._joined[doc]:
            window.insert(0, doc - 1)
        if doc + 1 < len(self._joined) and self._joined[doc + 1]:
            window.append(doc + 1)
        return window

    def neighbours(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each chunk's previous and next chunk in its window (-1: none), as arrays."""
        joined = self._joined
        after = np.minimum(docs + 1, len(joined) - 1)
        return (np.where(joined[docs], docs - 1, -1),
                np.where((docs + 1 < len(joined)) & joined[after], docs + 1, -1))

    def window_share(self, parsed: Question, doc: int) -> float:
        """The share of the question's information in the chunk's window (memoised)."""
        share = parsed.shares.get(doc)
        if share is None:
            text = self.window_text(parsed, doc)
            share = parsed.text_shares.get(text)
            if share is None:  # a reprint's window has the same text: computed once
                share = parsed.text_shares[text] = information_share(parsed.words, text)
            parsed.shares[doc] = share
        return share

    def window_text(self, parsed: Question, doc: int) -> str:
        """The window's normalised text, joined once per question."""
        text = parsed.windows.get(doc)
        if text is None:
            text = parsed.windows[doc] = "\n".join(
                self.searchable(parsed, i) for i in self.window(doc))
        return text

    def searchable(self, parsed: Question, doc: int) -> str:
        """A chunk's normalised text, decoded once per question."""
        text = parsed.texts.get(doc)
        if text is None:
            text = parsed.texts[doc] = self.index.searchable[doc]
        return text

    def searchables(self, parsed: Question, docs: list[int]) -> list[str]:
        """Chunks' normalised texts, decoded once per question (`searchable` for many)."""
        memo, source = parsed.texts, self.index.searchable
        texts = []
        for doc in docs:
            text = memo.get(doc)
            if text is None:
                text = memo[doc] = source[doc]
            texts.append(text)
        return texts

    def sentences(self, parsed: Question, doc: int) -> tuple[list[str], list[str]]:
        """A chunk's sentences as written and normalised, split once per question."""
        if doc not in parsed.sentences:
            parsed.sentences[doc] = split_normalised(self.index.chunks.text(doc),
                                                     self.searchable(parsed, doc))
        return parsed.sentences[doc]


def describe(parsed: Question, docs: np.ndarray, scores: np.ndarray, bm25: BM25,
             passages: Passages, names_place: Callable[[str], bool]) -> Features:
    """Describe the best passage for the gate."""
    maximum = bm25.max_score(parsed.query) or 1.0
    articles = passages.index.chunks.article[docs]
    others = np.flatnonzero(articles != articles[0])
    runner_up = float(scores[others[0]]) if len(others) else 0.0
    window = passages.window_text(parsed, int(docs[0]))
    words = parsed.words
    found = [w.match(window) for w in words]  # each word looked for once
    total = sum(w.weight for w in words)
    # The window's text is at hand: its coverage seeds the memo the hits read.
    coverage = parsed.shares[int(docs[0])] = parsed.text_shares[window] = (
        sum(w.weight * f for w, f in zip(words, found, strict=True)) / total if total else 0.0)
    unseen = sum(w.weight for w in words if not w.known) / total
    rarest = sorted(range(len(words)), key=lambda i: -words[i].weight)[:2]
    rare_found = sum(found[i] for i in rarest) / len(rarest)
    heaviest = max(w.weight for w in words) or 1.0
    missing = max((w.weight for w, f in zip(words, found, strict=True) if f < 1.0),
                  default=0.0)
    runner_coverage = (passages.window_share(parsed, int(docs[others[0]]))
                       if len(others) else 0.0)
    gap, size = (float(scores[0]) - runner_up) / maximum, math.log1p(bm25.corpus_size)
    return Features(gap=gap, coverage=coverage, unseen=unseen, rare_found=rare_found,
                    pairs=pair_share(words, found, window),
                    run=longest_run(parsed.text, window),
                    words=math.log1p(len(parsed.words)),
                    score=float(scores[0]) / maximum, missing=missing / heaviest,
                    runner_coverage=runner_coverage, size=size, unseen_size=unseen * size,
                    gap_size=gap * size, coverage_size=coverage * size,
                    place_missing=float(any(f < 1.0 and names_place(w.text)
                                            for w, f in zip(words, found, strict=True))),
                    **kind_checks(parsed, window))


def kind_checks(parsed: Question, shown: str) -> dict[str, float]:
    """The kind-of-answer checks on a passage: does it hold the kind of answer asked for.

    Read on what the resident is shown (`as_shown`): checked on the best window,
    疫苗接种几点 was refused as lacking the hours while the passage shown, a later one
    of the same notice, said 接种时间为每天上午8:30至11:30.
    """
    lacking = kind_missing(parsed.wants, shown)
    actions = action_asked(parsed.wants, parsed.text, (w.text for w in parsed.words))
    lacks = [w for w in parsed.words if w.text in actions and w.match(shown) < 1.0]
    # An action no passage names (报名 on the sample) no passage explains: never answered.
    # One the corpus names elsewhere only lowers the confidence: encyclopedic answers
    # explain 如何形成 without the verb (a hard rule lost 14 right answers, 0.4%, of CMRC
    # 2018 split-half).
    if lacks:
        lacking = "required" if any(not w.known for w in lacks) else "learned"
    return {"kind_missing": float(lacking == "learned"),
            "detail_missing": float(lacking == "required")}


def as_shown(features: Features, parsed: Question, seen: str,
             names_place: Callable[[str], bool]) -> Features:
    """Return the features with the checks read on what the reply shows.

    `seen`: the passage shown (with the neighbour's sentence it adds) and its title and
    section, normalised. Both the kind asked for and the place a question names (港湾社区,
    北京市) are looked for there (the title names the province of a notice). Read on the
    best window, as before, the place and the kind could pass on different passages
    (the window naming the place, a later passage holding the kind). On the gov policy
    set this refuses 7 right answers of 643 whose province is named only in the
    paragraph before (answered right .697 -> .686, absent answered .093 -> .092).
    """
    return replace(features, **kind_checks(parsed, seen),
                   place_missing=float(any(names_place(w.text) and w.match(seen) < 1.0
                                           for w in parsed.words)))


def longest_run(question: str, text: str) -> float:
    """Return the longest stretch of the question's words found as written, / its length."""
    letters = "".join(_WORD_CHARS.findall(question))
    if not letters:
        return 0.0
    best, start = 0, 0
    for end in range(1, len(letters) + 1):
        while start < end and letters[start:end] not in text:
            start += 1
        if end - start > best:
            best = end - start
    return best / len(letters)


def pair_share(words: list[Word], found: list[float], text: str) -> float:
    """Return the share of the words' character pairs in `text`; a word found counts whole.

    `found`: how much of each word `text` holds. A word found through a synonym (剃头
    as 理发) has none of its own pairs in the text.
    """
    held = total = 0
    for word, share in zip(words, found, strict=True):
        pairs = [word.text[i : i + 2] for i in range(max(len(word.text) - 1, 1))]
        total += len(pairs)
        held += len(pairs) if share == 1.0 else sum(p in text for p in pairs)
    return held / total if total else 0.0


def information_share(words: list[Word], text: str) -> float:
    """Return the share of the question's information (IDF-weighted words) that `text` holds."""
    total = sum(w.weight for w in words)
    return sum(w.weight * w.match(text) for w in words) / total if total else 0.0
