"""Answer a question with the best passages, with a confidence, or honestly with none."""

import gc
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from corpus.chunk import quoted_sentence_spans
from corpus.models import Article, Chunk
from retrieval.bm25 import BM25
from retrieval.commonness import weight_factor
from retrieval.gate import CLOSEST_FLOOR, COVERAGE_FLOOR, Features, Gate
from retrieval.index import Index
from retrieval.lexicon import read_synonyms
from retrieval.pairs import PairField, length_norms
from retrieval.recency import newer_first
from retrieval.tokenize import Tokenizer, normalize_for_search
from retrieval.typos import HomophoneFixer

MAX_QUESTION_CHARS = 200
# Synonyms count, but less than the words the resident typed.
SYNONYM_WEIGHT = 0.5
# The dictionary words inside a typed word (老年人 in 老年人活动区) add nothing to the query:
# measured at 0, 0.25 and 1 on CMRC 2018 and the resident questions, 0 ranked best. They
# still count for coverage (a word is found when all its parts are).
SUBWORD_WEIGHT = 0.0
# How many top-scoring passages per wanted hit are looked at...
CANDIDATES_PER_HIT = 10
# ...and how many articles per wanted hit are checked to hold the question too.
OTHER_SOURCES_CHECKED = 2
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
# A sentence naming a place gains this share of the weightiest word's weight (在哪)...
PLACE_BONUS = 0.5
# ...and one with a date, a frequency or a number, asked for, this share: a sentence
# without the date does not answer 什么时候, however many of the words it holds.
KIND_BONUS = 2.0


@dataclass(frozen=True)
class _Kind:
    """A kind of answer: how a question asks for it and how a sentence holds one."""

    name: str
    asks: re.Pattern[str]
    answer: re.Pattern[str] | None  # None: a sentence naming a local place
    bonus: float = KIND_BONUS  # the share of the weightiest word a sentence holding it gains
    # A window without it: "learned" sets the gate's kind_missing feature (a date can
    # take too many forms for a rule), "required" its detail_missing (never answered).
    lacking: str | None = None


# What kind of answer a question wants, and what a sentence holding one looks like.
# Where: a sentence naming a local place (the index's harvested names).
_WHERE = re.compile(r"在哪|哪里|哪儿|哪个地方|什么地方|啥地方|地址|位置|地点|去哪")
# How often: a frequency (每周, 每季度, 两次).
_HOW_OFTEN = re.compile(r"多久.*[一1][次回趟]|多长时间.*[一1][次回趟]|几次|多少次|几回|频率"
                        r"|隔多久")
_FREQUENCY = re.compile(r"每(?:周|天|日|月|年|季度|季|星期|晚|早|个月|半年)"
                        r"|[0-9一二两三四五六七八九十]+[次回]")
# At what hours: a clock time (开放时间: 上午9点至下午5点; 6月28日下午 is no opening hour).
_WHAT_HOURS = re.compile(r"几点|开放时间|营业时间|办公时间|开门|关门|几点钟|什么时间开")
_HOURS = re.compile(r"[0-9]{1,2}[:：][0-9]{2}|[0-9一二两三四五六七八九十]+点|24小时"
                    r"|[周星期][一二三四五六日天]至")
# When: a date, an hour, a period (4月, 上午9点, 每周).
_WHEN = re.compile(r"什么时候|啥时候|啥时|何时|几时|几月|几号|几日|哪天|哪年|哪一年|哪一天"
                   r"|哪个月|几点|多久|多长时间|几天|几年|多少年|多少天|开放时间|营业时间"
                   r"|时间是")
_TIME = re.compile(r"[0-9]+\s*(?:年|月|日|号|点|时|周|天|小时|分钟)"
                   r"|[一二两三四五六七八九十]+(?:月|日|号|点|周|天|小时|个月|年)"
                   r"|每(?:周|天|日|月|年|季度|季|星期)|星期[一二三四五六日天]"
                   r"|周[一二三四五六日末]|上午|下午|晚上|早上|中午|凌晨|全天")
# Which number to call: a telephone number or a short hotline.
_WHICH_NUMBER = re.compile(r"(?:电话|热线|手机号|号码)(?:号码)?是?(?:多少|几号|是什么|是啥|啥)"
                           r"|[打拨](?:什么|哪个|啥)(?:电话|号码)|联系电话")
_PHONE = re.compile(r"[0-9]{3,4}[-－—]?[0-9]{7,8}|1[0-9]{10}|(?<![0-9])[0-9]{5,8}(?![0-9])")
# What it costs, or whether it is free: a price or 免费 (the cost words themselves, 要钱
# or 收费, then say what is asked, not what about: they are not searched for).
_HOW_MUCH = re.compile(r"要钱|收钱|花钱|多少钱|几块钱|免费吗|免费不|免不免费|要不要钱|收不收费"
                       r"|收费吗|收费不|贵不贵|价格|费用|收费标准")
_PRICE = re.compile(r"免费|不收费|不要钱|收费|价格|费用|票价"
                    r"|[0-9零一二两三四五六七八九十百千万亿.]+多?"
                    r"(?:元|块|美元|英镑|欧元|日元|港元|港币|法郎|卢布|韩元|台币|澳元|加元)")
_COST_WORDS = frozenset({"要钱", "收钱", "花钱", "钱", "免费", "收费", "价格", "费用", "贵",
                         "收费标准", "几块钱", "要不要钱", "收不收费", "免不免费", "贵不贵"})
# Who: a sentence naming someone by title (区长张艳敏, 社区党委书记朱光, 79岁的徐大妈).
_WHO = re.compile(r"谁|哪位|什么人|啥人")
_PERSON = re.compile(r"(?:书记|主任|区长|主席|部长|局长|院长|校长|站长|经理|委员|记者|通讯员)"
                     r"[\u4e00-\u9fff]{2,3}|[\u4e00-\u9fff](?:大爷|大妈|女士|先生|老师)")
# Which ones: a sentence listing several (优秀共产党员、优秀党务工作者、先进基层党组织).
_WHICH_ONES = re.compile(r"哪些|哪几|有什么|有啥|都有")
_LIST = re.compile(r"[^、，,。；;]{1,25}、[^、，,。；;]{1,25}、")
# The first whose question pattern matches is the kind asked for. A list gains only
# PLACE_BONUS: it is one answer form among others.
_KINDS = (_Kind("number", _WHICH_NUMBER, _PHONE, lacking="required"),
          _Kind("frequency", _HOW_OFTEN, _FREQUENCY, lacking="learned"),
          _Kind("hours", _WHAT_HOURS, _HOURS, lacking="required"),
          _Kind("time", _WHEN, _TIME, lacking="learned"),
          _Kind("place", _WHERE, None, bonus=PLACE_BONUS),
          _Kind("cost", _HOW_MUCH, _PRICE, lacking="required"),
          _Kind("person", _WHO, _PERSON),
          _Kind("list", _WHICH_ONES, _LIST, bonus=PLACE_BONUS))
# A question naming a place (港湾社区, 航海东路, 郑州市) asks about that place: a passage
# about another one is not its answer, however much else it shares.
_PLACE_NAME_ENDS = ("社区", "街道", "小区", "村", "镇", "乡", "县", "市", "省", "路", "街")
# A test for the kind of answer asked for: the bonus share a sentence gains (0: none).
PlaceTest = Callable[[str], float]
_WORD_CHARS = re.compile(r"\w")
# A follow-up's context (the previous question) counts, but less than the words typed.
CONTEXT_WEIGHT = 0.5
# The character-pair field's weight beside the words' (each a share of its most possible
# score). Measured on the gov dev halves split A/B by article and on CMRC 2018 (R@1, A / B):
# 1.0 gave messages .624/.669, policy .862/.838, CMRC .973/.978; 1.5 gave .630/.669,
# .862/.841, .976/.977; 2.0 and 3.0 traded policy B for CMRC (r19_lab/log.md, E8).
PAIR_WEIGHT = 1.5


@dataclass(frozen=True)
class Tuning:
    """The searcher's refinements over plain BM25, each one switchable to measure it."""

    subword_weight: float = SUBWORD_WEIGHT
    synonyms: bool = True
    typo_repair: bool = True
    bigram_fallback: bool = True
    ignore_latin_slips: bool = True
    general_commonness: bool = True
    pairs: bool = True  # the character-pair field beside the words


class Outcome(StrEnum):
    """What a search found: an answer, only the closest match, or nothing."""

    ANSWERED = "answered"
    CLOSEST = "closest"
    NOTHING = "nothing"


class Hit(BaseModel):
    """One passage for the question, with what the reply needs to cite it."""

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
    # A sentence of a neighbouring passage that holds the answer, shown with the passage.
    extra_sentence: str | None = None
    extra_after: bool = True

    @property
    def shown_text(self) -> str:
        """The passage as a reader sees it: with the neighbour's sentence where it helps."""
        if not self.extra_sentence:
            return self.text
        if self.extra_after:
            return f"{self.text}……{self.extra_sentence}"
        return f"{self.extra_sentence}……{self.text}"


class Answer(BaseModel):
    """The searcher's verdict on a question: the outcome, its confidence and the passages."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    confidence: float
    hits: list[Hit]
    features: Features | None = None

    @property
    def answered(self) -> bool:
        """True only when the best passage is confidently an answer."""
        return self.outcome is Outcome.ANSWERED


@dataclass(frozen=True)
class _Part:
    text: str
    alternatives: tuple[str, ...]

    def found_in(self, text: str) -> bool:
        return self.text in text or any(alt in text for alt in self.alternatives)


@dataclass(frozen=True)
class _Word:
    """A meaningful word of the question and the ways it can be found in a passage."""

    text: str
    weight: float
    parts: tuple[_Part, ...]
    bigrams: tuple[str, ...] = ()  # only for a word the index has no token for
    known: bool = True  # the index has a token for the word, its parts or its bigrams
    corrected_from: str | None = None

    def match(self, text: str) -> float:
        """How much of the word `text` holds: 1 as written or by all its parts, else a share."""
        if self.text in text or (self.parts and all(p.found_in(text) for p in self.parts)):
            return 1.0
        if self.bigrams:
            share = sum(b in text for b in self.bigrams) / len(self.bigrams)
            return share if share > MIN_BIGRAM_SHARE else 0.0
        return 0.0


@dataclass(frozen=True)
class _Question:
    text: str  # normalised
    words: list[_Word]
    query: dict[str, float]
    wants: _Kind | None  # the kind of answer asked for: a place, a date, a number...
    shares: dict[int, float] = field(default_factory=dict)  # window coverage by chunk
    text_shares: dict[str, float] = field(default_factory=dict)  # ... by window text
    texts: dict[int, str] = field(default_factory=dict)  # normalised chunk texts read
    windows: dict[int, str] = field(default_factory=dict)  # window texts joined
    # Each chunk's sentences (as written, normalised), and the kind test's verdicts.
    sentences: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)
    kinds: dict[str, float] = field(default_factory=dict)


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
        self._synonyms: dict[str, tuple[str, ...]] = {}
        for group in read_synonyms(synonyms_path) if self.tuning.synonyms else []:
            for word in group:
                others = tuple(m for m in group if m != word)
                self._synonyms[word] = tuple(dict.fromkeys(self._synonyms.get(word, ()) + others))
        self._local_names = frozenset(index.local_names)
        self._lock = threading.Lock()  # jieba's tokenizer is not thread-safe
        self._phrases: dict[str, list[str]] = {}  # synonym tokens, filled under the lock
        self._typos = HomophoneFixer(index.char_df, self._term_df)
        self._pairs = PairField(index.pair_counts(), self.bm25.corpus_size, index.params.k1,
                                index.params.b) if self.tuning.pairs else None
        chunks = index.chunks
        same = ((chunks.article[1:] == chunks.article[:-1])
                & (chunks.section[1:] == chunks.section[:-1]))
        self._joined = np.concatenate([[False], same])  # chunk i continues chunk i - 1
        # One pattern for every local name, the longest at each place: a sentence is scanned once.
        self._names = re.compile(_trie_pattern(index.local_names)) if index.local_names else None

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
        features = self._features(parsed, docs, scores)
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
                    ) -> tuple[_Question, np.ndarray, np.ndarray]:
        """Parse the question and return its best passages with scores above the baseline."""
        parsed = self._parse(question[:MAX_QUESTION_CHARS])
        if context:
            parsed = _with_context(parsed, self._parse(context[:MAX_QUESTION_CHARS]))
        if not parsed.words or not parsed.query:
            return parsed, np.empty(0, dtype=np.int64), np.empty(0)
        docs, scores = self.bm25.top(parsed.query, CANDIDATES_PER_HIT * k, above_baseline=True)
        if self._pairs is not None and len(docs):
            docs, scores = self._with_pairs(self._pairs, parsed, context, docs, scores)
        return parsed, docs, scores

    def _with_pairs(self, pairs: PairField, parsed: _Question, context: str | None,
                    docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rescore the word field's best windows with the character-pair field, best first.

        Each field counts as a share of its most possible score; the sum is brought back
        to the word field's scale (its maximum is still the most a window can score), so
        the gate's gap and score features keep their meaning.
        """
        asked = [(parsed.text, 1.0)]
        if context:
            asked.append((normalize_for_search(context[:MAX_QUESTION_CHARS]), CONTEXT_WEIGHT))
        query = pairs.query(asked)
        if not query.maximum:
            return docs, scores
        # Each window as its passage and the neighbours it joins (-1: none), as positions
        # in the list of distinct passages whose texts are read.
        joined = self._joined
        ids = docs.tolist()
        rows = [(d - 1 if joined[d] else -1, d,
                 d + 1 if d + 1 < len(joined) and joined[d + 1] else -1) for d in ids]
        chunks = list(dict.fromkeys(c for row in rows for c in row if c >= 0))
        position = {c: i for i, c in enumerate(chunks)}
        position[-1] = -1
        texts = [self._searchable(parsed, c) for c in chunks]
        windows = np.asarray([[position[c] for c in row] for row in rows], dtype=np.int64)
        norms = length_norms(self.bm25.postings.doc_len, docs, self.index.params.b,
                             self.bm25.avgdl)
        maximum = self.bm25.max_score(parsed.query) or 1.0
        fused = (scores / maximum + PAIR_WEIGHT * pairs.scores(query, texts, windows, norms)) / (
            1.0 + PAIR_WEIGHT)
        order = np.argsort(-fused, kind="stable")
        return docs[order], fused[order] * maximum

    def weighted_words(self, question: str) -> list[tuple[str, float, bool]]:
        """The question's meaningful words in order: (word, weight, known to the index)."""
        return [(w.text, w.weight, w.known)
                for w in self._parse(question[:MAX_QUESTION_CHARS]).words]

    def _parse(self, question: str) -> _Question:
        """Find the question's words and build its weighted BM25 query."""
        normal = normalize_for_search(question)
        wants = next((kind for kind in _KINDS if kind.asks.search(normal)), None)
        with self._lock:
            plain_words = self.tokenizer.words(normal, normalised=True)
            if wants is not None and wants.name == "cost":
                plain_words = [w for w in plain_words if w not in _COST_WORDS] or plain_words
            has_cjk = bool(_CJK.search(question))
            words = self._words([w for w in plain_words
                                 if not (self.tuning.ignore_latin_slips and has_cjk
                                         and _LATIN_SLIP.fullmatch(w)
                                         and not self._term_df(w))])
            query: defaultdict[str, float] = defaultdict(float)
            for word in words:
                query[word.text] += 1.0 if len(word.text) > 1 else SINGLE_CHAR_WEIGHT
                needed = self.tuning.subword_weight or word.bigrams
                subwords = [t for t in self.tokenizer.subwords(word.text)
                            if self.tokenizer.keep(t)] if needed else []
                for token in subwords if self.tuning.subword_weight else []:
                    query[token] += self.tuning.subword_weight
                grams = [b for b in word.bigrams if self._term_df(b) and b not in subwords]
                for gram in grams:
                    query[gram] += 1.0 / len(grams)
                for token, weight in self._expansion(word):
                    query[token] += weight
        return _Question(normal, words, dict(query), wants)

    def _features(self, parsed: _Question, docs: np.ndarray, scores: np.ndarray) -> Features:
        """Describe the best passage for the gate."""
        maximum = self.bm25.max_score(parsed.query) or 1.0
        articles = self.index.chunks.article[docs]
        others = np.flatnonzero(articles != articles[0])
        runner_up = float(scores[others[0]]) if len(others) else 0.0
        window = self._window_text(parsed, int(docs[0]))
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
        runner_coverage = (self._window_share(parsed, int(docs[others[0]]))
                           if len(others) else 0.0)
        gap, size = (float(scores[0]) - runner_up) / maximum, math.log1p(self.bm25.corpus_size)
        lacking = _kind_missing(parsed, window)
        return Features(gap=gap, coverage=coverage, unseen=unseen, rare_found=rare_found,
                        pairs=_pair_share(words, found, window),
                        run=_longest_run(parsed.text, window),
                        words=math.log1p(len(parsed.words)),
                        score=float(scores[0]) / maximum, missing=missing / heaviest,
                        runner_coverage=runner_coverage, size=size, unseen_size=unseen * size,
                        gap_size=gap * size, coverage_size=coverage * size,
                        kind_missing=float(lacking == "learned"),
                        detail_missing=float(lacking == "required"),
                        place_missing=float(any(f < 1.0 and self._names_place(w.text)
                                                for w, f in zip(words, found, strict=True))))

    def _window(self, doc: int) -> list[int]:
        """The chunk with its neighbours in the same section, in order."""
        window = [doc]
        if self._joined[doc]:
            window.insert(0, doc - 1)
        if doc + 1 < len(self._joined) and self._joined[doc + 1]:
            window.append(doc + 1)
        return window

    def _window_share(self, parsed: _Question, doc: int) -> float:
        """The share of the question's information in the chunk's window (memoised)."""
        share = parsed.shares.get(doc)
        if share is None:
            text = self._window_text(parsed, doc)
            share = parsed.text_shares.get(text)
            if share is None:  # a reprint's window has the same text: computed once
                share = parsed.text_shares[text] = _share(parsed.words, text)
            parsed.shares[doc] = share
        return share

    def _window_text(self, parsed: _Question, doc: int) -> str:
        """The window's normalised text, joined once per question."""
        text = parsed.windows.get(doc)
        if text is None:
            text = parsed.windows[doc] = "\n".join(
                self._searchable(parsed, i) for i in self._window(doc))
        return text

    def _searchable(self, parsed: _Question, doc: int) -> str:
        """A chunk's normalised text, decoded once per question."""
        text = parsed.texts.get(doc)
        if text is None:
            text = parsed.texts[doc] = self.index.searchable[doc]
        return text

    def _hits(self, parsed: _Question, docs: np.ndarray, scores: np.ndarray, k: int,
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
                if self._window_text(parsed, doc) in shown:
                    continue  # the same report printed again elsewhere: shown once
                if self._window_share(parsed, doc) < COVERAGE_FLOOR:
                    continue  # further sources must hold the question too, not just score
            if relevant_only:
                shown.add(self._window_text(parsed, doc))
            if per_article:
                position = self._holding_the_kind(parsed, docs, position)
            hits.append(self._hit(parsed, int(docs[position]), len(hits) + 1,
                                  float(scores[position])))
            if len(hits) == k:
                break
        return hits

    def _holding_the_kind(self, parsed: _Question, docs: np.ndarray, position: int) -> int:
        """The article's best passage, or a later one of it holding the kind of answer asked.

        表彰了哪些先进: the passage that lists them may score below the one that names the
        meeting; it is taken if it holds as much of the question.
        """
        test = self._place_test(parsed)
        doc = int(docs[position])
        if test is None or test(self._window_text(parsed, doc)):
            return position
        article, share = self.index.chunks.article[doc], self._window_share(parsed, doc)
        for later in range(position + 1, len(docs)):
            other = int(docs[later])
            if (self.index.chunks.article[other] == article
                    and self._window_share(parsed, other) >= share
                    and test(self._window_text(parsed, other))):
                return later
        return position

    def _hit(self, parsed: _Question, doc: int, rank: int, score: float) -> Hit:
        """Make the hit for a window: it shows the window's chunk that holds most of the words."""
        coverage = self._window_share(parsed, doc)
        place = self._place_test(parsed)
        table = self.index.chunks
        best: dict[int, tuple[str, float, str]] = {}

        def best_of(i: int) -> tuple[str, float, str]:
            if i not in best:
                best[i] = _best_of(*self._sentences(parsed, i), parsed.words, place)
            return best[i]

        def preference(i: int) -> tuple[float, float, bool]:
            share = _share(parsed.words, self._searchable(parsed, i))
            # A chunk holding none of the words has no sentence worth anything: not split.
            return (best_of(i)[1] if place and share else 0.0), share, i == doc

        # The chunk shown holds most of the words; for a question wanting a kind of answer,
        # the one whose best sentence holds the words with the kind (a place, a date).
        doc = max(self._window(doc), key=preference)
        chunk = table[doc]
        article = self.index.articles[int(table.article[doc])]
        searchable = self._searchable(parsed, doc)
        sentence, value, _ = best_of(doc)
        # Words the passage lacks may sit in a neighbour's sentence: the answer continues there.
        lacking = [w for w in parsed.words if w.match(searchable) < 1.0]
        extra, after, bold, extra_rating = None, True, sentence, (0.0, 0.0)
        for neighbour in self._window(doc) if lacking else []:
            if neighbour == doc or not any(w.match(self._searchable(parsed, neighbour))
                                           for w in lacking):
                continue  # no sentence of it can add a lacking word
            candidate, adds, candidate_normal = _best_of(*self._sentences(parsed, neighbour),
                                                         lacking, place)
            # Of two that add as much, the one holding more of the whole question wins.
            rating = (adds, _sentence_value(candidate_normal, parsed.words, place))
            if adds > 0 and rating > extra_rating:
                extra, after, extra_rating = candidate, neighbour > doc, rating
        if extra and extra_rating[1] > value:
            bold = extra
        elif parsed.wants is not None and parsed.wants.name == "place" and place is not None:
            bold = self._with_the_place(parsed, doc, sentence, place)
        return _make_hit(article, chunk, rank, score, coverage, bold, extra, after)

    def _with_the_place(self, parsed: _Question, doc: int, sentence: str,
                        place: PlaceTest) -> str:
        """Return a 在哪 question's bold sentence with a neighbour naming the place it lacks.

        “……还能测量血压……”79岁的徐大妈……说。 is followed by 近日,南关街街道在印刷厂街社区
        开展……: the two are bold together. The next sentence is tried first, then the
        previous one, only within one paragraph: the two read as one answer.
        """
        written, normalised = self._sentences(parsed, doc)
        i = written.index(sentence) if sentence in written else -1
        if i < 0 or place(normalised[i]):
            return sentence
        text = self.index.chunks.text(doc)
        for j in (i + 1, i - 1):
            if 0 <= j < len(written) and place(normalised[j]):
                first, last = written[min(i, j)], written[max(i, j)]
                start = text.find(first)
                at = text.find(last, start + len(first)) if start >= 0 else -1
                if at >= 0 and "\n" not in text[start : at + len(last)]:
                    return text[start : at + len(last)]
        return sentence

    def _sentences(self, parsed: _Question, doc: int) -> tuple[list[str], list[str]]:
        """A chunk's sentences as written and normalised, split once per question."""
        if doc not in parsed.sentences:
            parsed.sentences[doc] = split_normalised(self.index.chunks.text(doc),
                                                     self._searchable(parsed, doc))
        return parsed.sentences[doc]

    def _place_test(self, parsed: _Question) -> PlaceTest | None:
        """A test for sentences holding the kind of answer asked for, if the question asks one.

        For 在哪: a sentence naming a local place the question does not name. Each
        sentence is tested once per question.
        """
        test = self._kind_test(parsed)
        if test is None:
            return None
        memo = parsed.kinds

        def remembered(sentence: str) -> float:
            if sentence not in memo:
                memo[sentence] = test(sentence)
            return memo[sentence]

        return remembered

    def _kind_test(self, parsed: _Question) -> PlaceTest | None:
        kind = parsed.wants
        if kind is None:
            return None
        bonus, pattern = kind.bonus, kind.answer
        if pattern is not None:
            return lambda sentence: bonus if pattern.search(sentence) else 0.0
        names = self._names
        if names is None:
            return None
        asked = "".join(w.text for w in parsed.words)
        return lambda sentence: bonus if any(
            m[0] not in asked for m in names.finditer(sentence)) else 0.0

    def _words(self, plain_words: list[str]) -> list[_Word]:
        """The question's meaningful words, each weighted by how rare it is in the corpus."""
        words = []
        for text in dict.fromkeys(plain_words):
            corrected = self._typos.correct(text) if self.tuning.typo_repair else None
            word = corrected or text
            parts = self._parts(word)
            # Known: the index has a token for the word, one of its parts, or their synonyms.
            known = bool(self._term_df(word)) or any(
                self._term_df(t) for p in parts for t in (p.text, *p.alternatives))
            bigrams = () if known or len(word) < 2 or not self.tuning.bigram_fallback else tuple(
                dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1)))
            if bigrams:
                known = any(self._term_df(b) for b in bigrams)
            words.append(_Word(word, self._information(word), parts, bigrams, known,
                               corrected_from=text if corrected else None))
        return words

    def _names_place(self, word: str) -> bool:
        """True if the word is a place's name: a local name, or a name with a place ending."""
        if word in self._local_names:
            return True
        end = next((e for e in _PLACE_NAME_ENDS if word.endswith(e)), None)
        return end is not None and len(word) - len(end) >= 2 and self.tokenizer.keep(
            word[: -len(end)])

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
        """IDF of a word, less if common in general; a word the corpus never uses: the most."""
        n = self.bm25.corpus_size
        df = self._term_df(word)
        if not df:
            # No term for it (看 inside 观看): at most as common as its rarest character.
            df = min(self.index.char_df.get(char, 0) for char in word)
        idf = math.log((n + 1) / (df + 0.5))
        if self.tuning.general_commonness:
            idf *= weight_factor(word)  # 开始, 还有: common words say little, whatever n is
        return idf * SINGLE_CHAR_WEIGHT if len(word) == 1 else idf

    def _expansion(self, word: _Word) -> list[tuple[str, float]]:
        tokens: list[tuple[str, float]] = []
        for part in word.parts:
            for alternative in part.alternatives:
                phrase = self._phrases.get(alternative)
                if phrase is None:  # tokenised once: the lexicon has over a thousand words
                    phrase = self._phrases[alternative] = self.tokenizer.tokenize(alternative)
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


def _longest_run(question: str, text: str) -> float:
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


def _kind_missing(parsed: _Question, window: str) -> str | None:
    """How the gate weighs the kind asked for (`_Kind.lacking`) if the window lacks it."""
    kind = parsed.wants
    if kind is None or kind.answer is None or kind.answer.search(window) is not None:
        return None
    return kind.lacking


def _pair_share(words: list[_Word], found: list[float], text: str) -> float:
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


def _with_context(parsed: _Question, context: _Question) -> _Question:
    """Add the context's words and query terms to the question's, at CONTEXT_WEIGHT."""
    typed = {w.text for w in parsed.words}
    words = parsed.words + [replace(w, weight=w.weight * CONTEXT_WEIGHT)
                            for w in context.words if w.text not in typed]
    query = dict(parsed.query)
    for token, weight in context.query.items():
        query[token] = query.get(token, 0.0) + weight * CONTEXT_WEIGHT
    return _Question(parsed.text, words, query, parsed.wants)


def _share(words: list[_Word], text: str) -> float:
    """Return the share of the question's information (IDF-weighted words) that `text` holds."""
    total = sum(w.weight for w in words)
    return sum(w.weight * w.match(text) for w in words) / total if total else 0.0


def _make_hit(article: Article, chunk: Chunk, rank: int, score: float, coverage: float,
              sentence: str, extra: str | None, after: bool) -> Hit:
    # Every field comes from the index's own, already validated, articles and chunks.
    return Hit.model_construct(rank=rank, score=score, coverage=coverage, chunk_id=chunk.id,
                               article_id=article.id, title=article.title,
                               subtitle=article.subtitle, source=article.source,
                               date=article.date, byline=article.byline, url=article.url,
                               section=chunk.section, text=chunk.text, best_sentence=sentence,
                               extra_sentence=extra, extra_after=after)


_Trie = dict[str, "_Trie"]


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression for any of `words`, the longest where several start at one place.

    The words share prefixes as a trie (十八里河(?:街道)?): twice as fast to scan
    as an alternation of hundreds of names, with the same matches.
    """
    trie: _Trie = {}
    for word in filter(None, words):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: _Trie) -> str:
        branches = [re.escape(char) + pattern(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


def freeze_loaded_objects() -> None:
    """Move everything loaded so far out of the garbage collector's sight (gc.freeze).

    A loaded index is hundreds of thousands of long-lived objects; without this,
    each full collection walks them all in the middle of some question.
    """
    gc.collect()
    gc.freeze()


def split_normalised(text: str, searchable: str) -> tuple[list[str], list[str]]:
    """Split a chunk into sentences, as written and normalised (`searchable`: its normal form)."""
    spans = quoted_sentence_spans(text) or [(0, len(text))]
    sentences = [text[a:b] for a, b in spans]
    tail = searchable.rsplit("\n", 1)[-1]
    if len(tail) == len(text):  # normalising kept every offset: slice the same spans
        return sentences, [tail[a:b] for a, b in spans]
    return sentences, [normalize_for_search(s) for s in sentences]


def _best_of(sentences: list[str], normalised: list[str], words: list[_Word],
             names_place: PlaceTest | None) -> tuple[str, float, str]:
    """The sentence holding most of the question: as written, its value, normalised.

    A sentence holding some of the words and the kind of answer asked for (a place, a
    date, a frequency, a number) gains a share of the weightiest word's weight
    (`PLACE_BONUS`, `KIND_BONUS`). ("" if there are no sentences.)
    """
    if not words:
        return (sentences[0], 0.0, normalised[0]) if sentences else ("", 0.0, "")
    # A word no sentence holds adds nothing to any: look for it once in them all.
    present = [w for w in words if w.match("\n".join(normalised))]
    heaviest = max(w.weight for w in words)
    best = ("", 0.0, "")
    for sentence, norm in zip(sentences, normalised, strict=True):
        value = _sentence_value(norm, present, names_place, heaviest)
        if value > best[1] or not best[0]:
            best = (sentence, value, norm)
    return best


def _sentence_value(normalised: str, words: list[_Word], names_place: PlaceTest | None,
                    heaviest: float | None = None) -> float:
    """How much of the question a sentence holds, with the place bonus for 在哪 questions.

    `heaviest`: the weight the bonus is a share of (by default, the heaviest of `words`).
    """
    value = 0.0
    for word in words:
        value += word.weight * word.match(normalised)
    if value and names_place:
        if heaviest is None:
            heaviest = max(w.weight for w in words)
        value += names_place(normalised) * heaviest
    return value
