"""Read a short follow-up (那几点开门？) in the context of the question asked just before.

The rule, given the previous question (the context):
1. Only a short question is a candidate: at most FOLLOWUP_MAX_CHARS characters,
   worded as a question (？, 吗, 呢, 几, 多少, 哪, 什么, 谁, 怎么...), and naming no
   topic of its own: no word of TOPIC_WORD_CHARS or more characters, no local name,
   and no noun the corpus never uses (社区食堂在哪: 食堂), other than the words that
   say which kind of answer is asked (电话 of 电话多少, 地址 of 地址呢). A longer
   message, or one that names a topic (哪里可以免费量血压？), is a question of its
   own; 你好 or 谢谢 is not a follow-up of anything.
2. A candidate is a follow-up when, asked with the context's words (at a lower
   weight), its best passage holds the context's topic words (its weightiest known
   words), unless asked alone it is answered clearly more confidently (by more than
   FOLLOWUP_MARGIN): then it stands on its own. Answered alone with the same passage,
   the context was not used: the reply is not headed with its topic, and the message
   is a new question if its own topic (免费理发) is TOPIC_WORD_CHARS long, else the
   context stays (远不远？).
3. A candidate none of whose words the corpus knows (电话多少？) is a follow-up too.
A follow-up the corpus cannot answer gets an honest no that names the topic, or the
closest match when that passage is about the topic (never one about something else).
Anything else is a complete new question, and it becomes the context for the next
one. `linli eval` measures the rule on the follow-up pairs of the evaluation file.
May import `retrieval.search` (the searcher and its models) and `retrieval.text`.
"""

import re
from dataclasses import dataclass

from retrieval.search import Answer, Outcome, Searcher
from retrieval.text.tokenize import normalize_for_search, sorted_word_tags

FOLLOWUP_MAX_CHARS = 15
FOLLOWUP_MARGIN = 0.05
# A topic named in a reply is a few words, not a whole question.
MAX_TOPIC_CHARS = 10
# A word this long (量血压, 儿童微乐园, 身份证) names what a question is about.
TOPIC_WORD_CHARS = 3
_QUESTION = re.compile(r"[?？吗呢几啥谁]|多少|多久|多远|哪|什么|怎么|如何|是否|有没有")


@dataclass(frozen=True)
class Resolved:
    """The answer to a message, and the topic it was read in (None: a question of its own)."""

    answer: Answer
    topic: str | None = None
    # False: a follow-up the context changed nothing for (the same passage alone): the
    # context stays, but the reply is not headed with its topic.
    headed: bool = True

    @property
    def heading(self) -> str | None:
        """The topic the reply is headed with (关于“…”：), if the context was used."""
        return self.topic if self.headed else None

    @property
    def followup(self) -> bool:
        """True when the message was read as a follow-up of the previous question."""
        return self.topic is not None


def topic_words(searcher: Searcher, question: str) -> list[str]:
    """The question's weightiest words the corpus knows, in order: what it is about."""
    words = [(w, weight) for w, weight, known in searcher.weighted_words(question) if known]
    if not words:
        return []
    heaviest = max(weight for _, weight in words)
    return [w for w, weight in words if weight >= heaviest / 2]


def topic_of(searcher: Searcher, question: str) -> str | None:
    """Name what a question is about: its weightiest words as written (老年人活动区)."""
    words = topic_words(searcher, question)
    if not words:
        return None
    text = normalize_for_search(question)
    for word in searcher.reader.parse(question).words:  # 免废理发 is about 免费理发
        if word.corrected_from:
            text = text.replace(word.corrected_from, word.text)
    several = [w for w in words if len(w) > 1] or words
    start = min(text.find(w) for w in several)
    end = max(text.find(w) + len(w) for w in several)
    # Words side by side (免费 量血压) read as one topic; scattered ones do not.
    if start >= 0 and end - start == sum(map(len, several)) <= MAX_TOPIC_CHARS:
        return text[start:end]
    return max(several, key=len)


def is_candidate(searcher: Searcher, message: str) -> bool:
    """Tell whether a message is a short question that names no topic of its own (rule 1)."""
    message = message.strip()
    if len(message) > FOLLOWUP_MAX_CHARS or not _QUESTION.search(message):
        return False
    parsed = searcher.reader.parse(message)
    names = searcher.index.local_names
    # The words that say which kind is asked (电话多少, 地址呢) name no topic.
    wording = "".join(m[0] for m in parsed.wants.asks.finditer(parsed.text)) if parsed.wants else ""
    return bool(parsed.words) and not any(
        len(w.text) >= TOPIC_WORD_CHARS or w.text in names
        or (not w.known and w.text not in wording and _is_noun(w.text))
        for w in parsed.words)


def _is_noun(word: str) -> bool:
    """True if jieba's dictionary tags the word a noun (食堂; not 里面, 还有 or 周末).

    A follow-up leaves its subject out and asks about an aspect of the last one (its
    hours, its 设施); a thing the corpus never mentions cannot be that aspect. On the
    sample, 社区食堂在哪 after 老年人活动区在哪里？ was shown the activity area.
    """
    return len(word) > 1 and sorted_word_tags().get(word, "").startswith("n")


def _knows_nothing(alone: Answer) -> bool:
    """True when the corpus knows none of the message's words (rule 3)."""
    return alone.outcome is Outcome.NOTHING and (
        alone.features is None or alone.features.unseen >= 1.0)


def resolve(searcher: Searcher, message: str, context: str | None, k: int = 3) -> Resolved:
    """Answer `message`, as a follow-up of `context` when the rule says it is one."""
    alone = searcher.answer(message, k=k)
    if not context or not is_candidate(searcher, message):
        return Resolved(alone)
    topic, words = topic_of(searcher, context), topic_words(searcher, context)
    if topic is None:
        return Resolved(alone)
    within = searcher.answer(message, k=k, context=context)
    shown = normalize_for_search(within.hits[0].shown_text) if within.hits else ""
    holds_topic = bool(shown) and all(w in shown for w in words)
    clearly_alone = alone.answered and alone.confidence > within.confidence + FOLLOWUP_MARGIN
    # Asked alone, the same passage with the same outcome: the context added nothing, and
    # a heading naming its topic would be wrong (免废理发在哪 after 老年人活动区在哪里？).
    # A message whose own topic (its weightiest words side by side, 免费理发) is as long
    # as a topic word is a new question; one that is not (远不远) keeps the context.
    unused = (bool(alone.hits) and bool(within.hits) and alone.outcome is within.outcome
              and alone.hits[0].chunk_id == within.hits[0].chunk_id)
    if holds_topic and not clearly_alone and unused:
        own = topic_of(searcher, message)
        return Resolved(alone) if own and len(own) >= TOPIC_WORD_CHARS else Resolved(
            alone, topic, headed=False)
    if holds_topic and not clearly_alone:
        return Resolved(within, topic)  # answered, or the closest match on the topic
    if _knows_nothing(alone):
        return Resolved(within if within.answered else _nothing(within), topic)
    return Resolved(alone)


def _nothing(found: Answer) -> Answer:
    """The honest no: no passage, whatever came closest."""
    return Answer(outcome=Outcome.NOTHING, confidence=found.confidence, hits=[],
                  features=found.features)


def resolve_pair(searcher: Searcher, message: str, context: str) -> Resolved:
    """Read a follow-up pair as the bot does (the form `evaluate_followups` takes)."""
    return resolve(searcher, message, context)
