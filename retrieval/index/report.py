"""What a refresh did, for the CLI's and /reload's report. Imports only corpus's models."""

from collections.abc import Callable
from dataclasses import dataclass, field

from corpus.models import Problem

SHOWN_NAMES = 10  # reports name this many added / changed / removed articles, then count


@dataclass
class RefreshReport:
    """What `refresh_index` did: for the CLI's and /reload's report."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks: int = 0
    articles: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    spliced: bool = False  # only the changed articles' passages were tokenised and spliced
    reason: str = ""
    pending: Callable[[], None] | None = None  # saves the index (with `defer_save`)
    problems: list[Problem] = field(default_factory=list)
