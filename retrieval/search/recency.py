"""Dates of sources: how old an article is, and the newer first among equals.

Imports only `retrieval.search.models` (`Hit`).
"""

import datetime as dt

from retrieval.search.models import Hit

# Two passages whose scores differ by less than this share are about equally good.
EQUAL_SCORE_SHARE = 0.05


def months_old(date: str | None, today: dt.date) -> int | None:
    """Whole months from an article's date (YYYY, YYYY-MM or YYYY-MM-DD) to `today`."""
    if not date:
        return None
    parts = [int(p) for p in date.split("-")]
    year, month = parts[0], parts[1] if len(parts) > 1 else 1
    day = parts[2] if len(parts) > 2 else 1
    months = (today.year - year) * 12 + today.month - month
    return max(months - (today.day < day), 0)


def newer_first(hits: list[Hit]) -> list[Hit]:
    """Put the newer of two about equally good neighbours first; renumber the ranks."""
    ordered = list(hits)
    for _ in range(len(ordered)):
        for i in range(len(ordered) - 1):
            a, b = ordered[i], ordered[i + 1]
            close = abs(a.score - b.score) <= EQUAL_SCORE_SHARE * max(abs(a.score), 1e-9)
            if close and (b.date or "") > (a.date or ""):
                ordered[i], ordered[i + 1] = b, a
    return [h.model_copy(update={"rank": rank}) for rank, h in enumerate(ordered, start=1)]
