"""The searcher's public models: `Tuning`, `Outcome`, `Hit` and `Answer`.

May import pydantic and `retrieval.search.gate` (an answer carries its gate features);
every other module of `retrieval.search` may import this one.
"""

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from retrieval.search.gate import Features

# The dictionary words inside a typed word (老年人 in 老年人活动区) add nothing to the query:
# measured at 0, 0.25 and 1 on CMRC 2018 and the resident questions, 0 ranked best. They
# still count for coverage (a word is found when all its parts are).
SUBWORD_WEIGHT = 0.0


@dataclass(frozen=True)
class Tuning:
    """The searcher's refinements over plain BM25, each one switchable to measure it."""

    subword_weight: float = SUBWORD_WEIGHT
    synonyms: bool = True
    typo_repair: bool = True
    bigram_fallback: bool = True
    ignore_latin_slips: bool = True
    general_commonness: bool = True
    pairs: bool = True  # the character-pair field beside the words (retrieval/text/pairs.py)


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
