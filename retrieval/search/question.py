"""Read a question: its meaningful words, their weights, and the expanded BM25 query.

Holds `Word`, `Question` and `QuestionReader` (typo repair, sub-words, the pair
fallback for words the index has no token for, general commonness, synonyms) and
`with_context`, a follow-up read with the question before it. May import
`retrieval.bm25`, `retrieval.text`, `retrieval.index` (its model) and the search
package's kinds and models.
"""

import math
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from retrieval.bm25 import BM25
from retrieval.index import Index
from retrieval.search.kinds import KINDS, PLACE_NAME_ENDS, Kind, service_place
from retrieval.search.models import Tuning
from retrieval.text.commonness import weight_factor
from retrieval.text.lexicon import read_synonyms
from retrieval.text.tokenize import Tokenizer, normalize_for_search
from retrieval.text.typos import HomophoneFixer

MAX_QUESTION_CHARS = 200
# Synonyms count, but less than the words the resident typed.
SYNONYM_WEIGHT = 0.5
# A single character (讲, 找, 看) is rarely what a question is about: it counts half.
SINGLE_CHAR_WEIGHT = 0.5
# A word the index has no token for is still found when more than this share of its
# character pairs is (jieba cut the question and the passage differently); one pair of
# two (市场 of 菜市场) is only the head of another word.
MIN_BIGRAM_SHARE = 0.5
# A Latin fragment of 1-3 letters in a Chinese question, unknown to the index, is an
# input-method slip (ren大代表): it is ignored rather than counted as unmatched.
_LATIN_SLIP = re.compile(r"[a-z]{1,3}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A follow-up's context (the previous question) counts, but less than the words typed.
CONTEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class Part:
    """A sub-word of a question's word, and its synonyms."""

    text: str
    alternatives: tuple[str, ...]

    def found_in(self, text: str) -> bool:
        """Tell whether `text` holds the part or one of its synonyms."""
        return self.text in text or any(alt in text for alt in self.alternatives)


@dataclass(frozen=True)
class Word:
    """A meaningful word of the question and the ways it can be found in a passage."""

    text: str
    weight: float
    parts: tuple[Part, ...]
    bigrams: tuple[str, ...] = ()  # only for a word the index has no token for
    known: bool = True  # the index has a token for the word, its parts or its bigrams
    corrected_from: str | None = None
    place: re.Pattern[str] | None = None  # a service place by another ending (养老院)

    def match(self, text: str) -> float:
        """How much of the word `text` holds: 1 as written or by all its parts, else a share."""
        if self.text in text or (self.parts and all(p.found_in(text) for p in self.parts)):
            return 1.0
        if self.place is not None and self.place.search(text):
            return 1.0
        if self.bigrams:
            share = sum(b in text for b in self.bigrams) / len(self.bigrams)
            return share if share > MIN_BIGRAM_SHARE else 0.0
        return 0.0


@dataclass(frozen=True)
class Question:
    """A question as read: its words, its query, the kind asked for, and per-question memos."""

    text: str  # normalised
    words: list[Word]
    query: dict[str, float]
    wants: Kind | None  # the kind of answer asked for: a place, a date, a number...
    shares: dict[int, float] = field(default_factory=dict)  # window coverage by chunk
    text_shares: dict[str, float] = field(default_factory=dict)  # ... by window text
    texts: dict[int, str] = field(default_factory=dict)  # normalised chunk texts read
    windows: dict[int, str] = field(default_factory=dict)  # window texts joined
    # Each chunk's sentences (as written, normalised), and the kind test's verdicts.
    sentences: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)
    kinds: dict[str, float] = field(default_factory=dict)


class QuestionReader:
    """Parse questions against one index (its tokens, names and characters); thread-safe."""

    def __init__(self, index: Index, bm25: BM25, tokenizer: Tokenizer, tuning: Tuning,
                 synonyms_path: Path | None = None) -> None:
        self.index, self.bm25, self.tokenizer, self.tuning = index, bm25, tokenizer, tuning
        self._synonyms: dict[str, tuple[str, ...]] = {}
        for group in read_synonyms(synonyms_path) if self.tuning.synonyms else []:
            for word in group:
                others = tuple(m for m in group if m != word)
                self._synonyms[word] = tuple(dict.fromkeys(self._synonyms.get(word, ()) + others))
        self._local_names = frozenset(index.local_names)
        self._lock = threading.Lock()  # jieba's tokenizer is not thread-safe
        self._phrases: dict[str, list[str]] = {}  # synonym tokens, filled under the lock
        self._typos = HomophoneFixer(index.char_df, self.term_df)

    def parse(self, question: str) -> Question:
        """Find the question's words and build its weighted BM25 query."""
        normal = normalize_for_search(question)
        wants = next((kind for kind in KINDS if kind.asks.search(normal)), None)
        with self._lock:
            plain_words = self._recut(normal, self.tokenizer.words(normal, normalised=True))
            if wants is not None and wants.wording:  # 电话 of 电话多少 says what kind is asked
                plain_words = [w for w in plain_words if w not in wants.wording] or plain_words
            has_cjk = bool(_CJK.search(question))
            words = self._words([w for w in plain_words
                                 if not (self.tuning.ignore_latin_slips and has_cjk
                                         and _LATIN_SLIP.fullmatch(w)
                                         and not self.term_df(w))])
            query: defaultdict[str, float] = defaultdict(float)
            for word in words:
                query[word.text] += 1.0 if len(word.text) > 1 else SINGLE_CHAR_WEIGHT
                needed = self.tuning.subword_weight or word.bigrams
                subwords = [t for t in self.tokenizer.subwords(word.text)
                            if self.tokenizer.keep(t)] if needed else []
                for token in subwords if self.tuning.subword_weight else []:
                    query[token] += self.tuning.subword_weight
                grams = [b for b in word.bigrams if self.term_df(b) and b not in subwords]
                for gram in grams:
                    query[gram] += 1.0 / len(grams)
                for token, weight in self._expansion(word):
                    query[token] += weight
        return Question(normal, words, dict(query), wants)

    def _words(self, plain_words: list[str]) -> list[Word]:
        """The question's meaningful words, each weighted by how rare it is in the corpus."""
        words = []
        for text in dict.fromkeys(plain_words):
            corrected = self._typos.correct(text) if self.tuning.typo_repair else None
            word = corrected or text
            parts = self._parts(word)
            # Known: the index has a token for the word, one of its parts, or their synonyms.
            known = bool(self.term_df(word)) or any(
                self.term_df(t) for p in parts for t in (p.text, *p.alternatives))
            bigrams = () if known or len(word) < 2 or not self.tuning.bigram_fallback else tuple(
                dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1)))
            if bigrams:
                known = any(self.term_df(b) for b in bigrams)
            # A service place the index never names so (养老院) may be named by another
            # ending (养老服务中心).
            place = None if self.term_df(word) else service_place(word, self.term_df)
            words.append(Word(word, self._information(word), parts, bigrams, known or bool(place),
                               corrected_from=text if corrected else None, place=place))
        return words

    def _recut(self, text: str, words: list[str]) -> list[str]:
        """Cut again, by the index's own tokens, a run of words the index has none for.

        jieba cuts 哪里能看党史书 into 看党 / 史书, words no passage has, where the passages
        have 党史 and 书 (党史书籍). Adjacent unknown words are joined and cut by the longest
        index tokens; the cut is kept when one of them straddles jieba's cut (党史 across
        看党 / 史书: jieba cut there wrongly) and they cover more than half of the run
        (MIN_BIGRAM_SHARE); characters left over that are no token are dropped. Without
        the straddle the cut falls apart into single characters (三元 / 桥站 -> 三 元 桥 站):
        on CMRC 2018 split-half that answered 12 more questions whose paragraph was absent.
        """
        out: list[str] = []
        run: list[str] = []
        for word in [*words, ""]:
            joined = "".join(run) + word
            if word and not self.term_df(word) and (not run or joined in text):
                run.append(word)
                continue
            out.extend(self._by_tokens(run) if len(run) > 1 else run)
            run = [word] if word and not self.term_df(word) else []
            if word and self.term_df(word):
                out.append(word)
        return out

    def _by_tokens(self, run: list[str]) -> list[str]:
        """Cut the joined run by the longest index tokens; the run as it was if not better."""
        text, tokens, at, covered, straddles = "".join(run), [], 0, 0, False
        cuts = {sum(map(len, run[:i])) for i in range(1, len(run))}  # where jieba cut
        while at < len(text):
            end = next((e for e in range(len(text), at, -1) if self.term_df(text[at:e])), at)
            if end > at:
                tokens.append(text[at:end])
                covered += end - at
                straddles = straddles or any(at < cut < end for cut in cuts)
            at = max(end, at + 1)
        return tokens if straddles and covered / len(text) > MIN_BIGRAM_SHARE else run

    def names_place(self, word: str) -> bool:
        """True if the word is a place's name: a local name, or a name with a place ending."""
        if word in self._local_names:
            return True
        end = next((e for e in PLACE_NAME_ENDS if word.endswith(e)), None)
        return end is not None and len(word) - len(end) >= 2 and self.tokenizer.keep(
            word[: -len(end)])

    def term_df(self, term: str) -> int:
        """How many chunks hold `term` as a token (0 if none)."""
        index = self.bm25.term_ids.get(term)
        return 0 if index is None else int(self.bm25.doc_freq[index])

    def _synonyms_of(self, word: str) -> tuple[str, ...]:
        return self._synonyms.get(word, ())

    def _parts(self, word: str) -> tuple[Part, ...]:
        """Split a compound word into its largest sub-words (老年人活动区: 老年人, 活动区).

        No parts (an empty tuple): the word counts only as written.
        """
        if word in self._synonyms:
            return (Part(word, self._synonyms[word]),)
        subwords = {t for t in self.tokenizer.subwords(word) if self.tokenizer.keep(t)}
        largest = [t for t in subwords if not any(t != o and t in o for o in subwords)]
        if not largest:
            return ()
        return tuple(Part(t, self._synonyms_of(t)) for t in sorted(largest, key=word.find))

    def _information(self, word: str) -> float:
        """IDF of a word, less if common in general; a word the corpus never uses: the most."""
        n = self.bm25.corpus_size
        df = self.term_df(word)
        if not df:
            # No term for it (看 inside 观看): at most as common as its rarest character.
            df = min(self.index.char_df.get(char, 0) for char in word)
        idf = math.log((n + 1) / (df + 0.5))
        if self.tuning.general_commonness:
            idf *= weight_factor(word)  # 开始, 还有: common words say little, whatever n is
        return idf * SINGLE_CHAR_WEIGHT if len(word) == 1 else idf

    def _expansion(self, word: Word) -> list[tuple[str, float]]:
        tokens: list[tuple[str, float]] = []
        for part in word.parts:
            for alternative in part.alternatives:
                phrase = self._phrases.get(alternative)
                if phrase is None:  # tokenised once: the lexicon has over a thousand words
                    phrase = self._phrases[alternative] = self.tokenizer.tokenize(alternative)
                # A synonym phrase weighs SYNONYM_WEIGHT in all, however many tokens it has.
                tokens.extend((t, SYNONYM_WEIGHT / len(phrase)) for t in phrase)
        return tokens


def with_context(parsed: Question, context: Question) -> Question:
    """Add the context's words and query terms to the question's, at CONTEXT_WEIGHT."""
    typed = {w.text for w in parsed.words}
    words = parsed.words + [replace(w, weight=w.weight * CONTEXT_WEIGHT)
                            for w in context.words if w.text not in typed]
    query = dict(parsed.query)
    for token, weight in context.query.items():
        query[token] = query.get(token, 0.0) + weight * CONTEXT_WEIGHT
    return Question(parsed.text, words, query, parsed.wants)
