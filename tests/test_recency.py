"""Dates of sources: ages in months, the newer of two equals first, undated citations."""

import datetime as dt

from bot.replies import citation
from retrieval.search import Hit
from retrieval.search.recency import months_old, newer_first


def hit(rank: int, score: float, date: str | None, title: str = "t") -> Hit:
    return Hit(rank=rank, score=score, coverage=1.0, chunk_id=f"c{rank}", article_id=f"a{rank}",
               title=title, subtitle=None, source=None, date=date, byline=None, url=None,
               section=None, text="正文", best_sentence="正文")


def test_months_old_counts_whole_months() -> None:
    today = dt.date(2022, 6, 15)
    assert months_old("2021-06", today) == 12
    assert months_old("2021-06-20", today) == 11  # not yet twelve full months
    assert months_old("2022", today) == 5
    assert months_old(None, today) is None


def test_the_newer_of_two_about_equally_good_sources_comes_first() -> None:
    old, new = hit(1, 10.0, "2021-06"), hit(2, 9.8, "2023-01")
    assert [h.date for h in newer_first([old, new])] == ["2023-01", "2021-06"]
    assert [h.rank for h in newer_first([old, new])] == [1, 2]


def test_a_clearly_better_older_source_stays_first() -> None:
    old, new, undated = hit(1, 10.0, "2021-06"), hit(2, 6.0, "2023-01"), hit(3, 5.9, None)
    assert [h.date for h in newer_first([old, new, undated])] == ["2021-06", "2023-01", None]


def test_an_undated_article_says_so_in_its_citation() -> None:
    assert "日期不详" in citation(hit(1, 1.0, None, "没有日期的报道"))
    assert "日期不详" not in citation(hit(1, 1.0, "2021-06"))
