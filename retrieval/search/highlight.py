"""Choose the sentence shown in bold: the one holding most of the question and its kind.

Holds sentence splitting, the sentence values with the kind bonus, the 在哪 rule that
joins a neighbouring sentence naming the place, and the per-question kind test. May
import corpus's chunking, `retrieval.text` and the search package's kinds and question.
"""

import re

from corpus.chunk import quoted_sentence_spans
from retrieval.search.kinds import PlaceTest
from retrieval.search.question import Question, Word
from retrieval.text.tokenize import normalize_for_search


def split_normalised(text: str, searchable: str) -> tuple[list[str], list[str]]:
    """Split a chunk into sentences, as written and normalised (`searchable`: its normal form)."""
    spans = quoted_sentence_spans(text) or [(0, len(text))]
    sentences = [text[a:b] for a, b in spans]
    tail = searchable.rsplit("\n", 1)[-1]
    if len(tail) == len(text):  # normalising kept every offset: slice the same spans
        return sentences, [tail[a:b] for a, b in spans]
    return sentences, [normalize_for_search(s) for s in sentences]


def best_sentence(sentences: list[str], normalised: list[str], words: list[Word],
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
        value = sentence_value(norm, present, names_place, heaviest)
        if value > best[1] or not best[0]:
            best = (sentence, value, norm)
    return best


def sentence_value(normalised: str, words: list[Word], names_place: PlaceTest | None,
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


def with_the_place(written: list[str], normalised: list[str], text: str, sentence: str,
                   place: PlaceTest) -> str:
    """Return a 在哪 question's bold sentence with a neighbour naming the place it lacks.

    “……还能测量血压……”79岁的徐大妈……说。 is followed by 近日,南关街街道在印刷厂街社区
    开展……: the two are bold together. The next sentence is tried first, then the
    previous one, only within one paragraph: the two read as one answer. `written`
    and `normalised`: the chunk's sentences; `text`: the chunk's text.
    """
    i = written.index(sentence) if sentence in written else -1
    if i < 0 or place(normalised[i]):
        return sentence
    for j in (i + 1, i - 1):
        if 0 <= j < len(written) and place(normalised[j]):
            first, last = written[min(i, j)], written[max(i, j)]
            start = text.find(first)
            at = text.find(last, start + len(first)) if start >= 0 else -1
            if at >= 0 and "\n" not in text[start : at + len(last)]:
                return text[start : at + len(last)]
    return sentence


def place_test(parsed: Question, names: re.Pattern[str] | None) -> PlaceTest | None:
    """A test for sentences holding the kind of answer asked for, if the question asks one.

    For 在哪: a sentence naming a local place (`names`: the index's names) the
    question does not name. Each sentence is tested once per question.
    """
    test = _kind_test(parsed, names)
    if test is None:
        return None
    memo = parsed.kinds

    def remembered(sentence: str) -> float:
        if sentence not in memo:
            memo[sentence] = test(sentence)
        return memo[sentence]

    return remembered


def _kind_test(parsed: Question, names: re.Pattern[str] | None) -> PlaceTest | None:
    kind = parsed.wants
    if kind is None:
        return None
    bonus, pattern = kind.bonus, kind.answer
    if pattern is not None:
        return lambda sentence: bonus if pattern.search(sentence) else 0.0
    if names is None or kind.name != "place":
        return None
    asked = "".join(w.text for w in parsed.words)
    return lambda sentence: bonus if any(
        m[0] not in asked for m in names.finditer(sentence)) else 0.0
