"""Answer questions from an index; re-exports the public names.

Rooms: `models` (Hit, Answer, Outcome, Tuning), `question` (parsing and expansion),
`kinds` (the answer-kind table, place names), `features` (what the gate weighs),
`gate` (the confidence and the threshold), `highlight` (the bold sentence),
`recency` (dates of sources), `searcher` (`Searcher`), `followup` (the follow-up rule).
May import corpus, `retrieval.bm25`, `retrieval.text` and `retrieval.index`; never
`retrieval.evaluation`, never `telegram`.
"""

from retrieval.search.gate import CLOSEST_FLOOR, COVERAGE_FLOOR, Features, Gate, GateFileError
from retrieval.search.kinds import FACILITY_ENDS, PLACE_NAME_ENDS
from retrieval.search.models import Answer, Hit, Outcome, Tuning
from retrieval.search.question import MAX_QUESTION_CHARS
from retrieval.search.searcher import Searcher

__all__ = [
    "CLOSEST_FLOOR",
    "COVERAGE_FLOOR",
    "FACILITY_ENDS",
    "MAX_QUESTION_CHARS",
    "PLACE_NAME_ENDS",
    "Answer",
    "Features",
    "Gate",
    "GateFileError",
    "Hit",
    "Outcome",
    "Searcher",
    "Tuning",
]
