"""The corpus's data: articles as admins write them, chunks as the index sees them."""

import re
from datetime import date as Date
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

# The corpus sub-folder of staff answers (bot/staff writes them; article ids start with it).
STAFF_FOLDER = "答复"
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


class CorpusError(Exception):
    """The corpus as a whole cannot be read (a missing folder, no articles)."""


class ArticleFormatError(ValueError):
    """One article's text or front matter is not valid."""


def check_date(value: str) -> str:
    """Return `value` if it is YYYY-MM-DD, YYYY-MM or YYYY and a real date; raise otherwise."""
    match = _DATE.match(value)
    if not match:
        raise ArticleFormatError(f"date '{value}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)")
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        Date(year, month, day)
    except ValueError:
        raise ArticleFormatError(
            f"date '{value}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)"
        ) from None
    return value


def is_staff_answer(article_id: str) -> bool:
    """Tell whether an article is a staff answer (a file in the corpus's 答复/ folder)."""
    return article_id.startswith(f"{STAFF_FOLDER}/")


def format_date(date: str | None) -> str | None:
    """Write YYYY-MM-DD, YYYY-MM or YYYY as a Chinese reader does: 2021年6月29日."""
    if not date:
        return None
    parts = [int(p) for p in date.split("-")]
    return "".join(f"{n}{unit}" for n, unit in zip(parts, "年月日", strict=False))


def is_web_address(url: str | None) -> bool:
    """Tell whether a url is an http(s) address with a host (what a citation may link to)."""
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


class Section(BaseModel):
    """A run of paragraphs under one heading (`None` before the first heading)."""

    model_config = ConfigDict(frozen=True)

    heading: str | None = None
    paragraphs: tuple[str, ...]


class Article(BaseModel):
    """One article: its citation fields and its text, section by section."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    subtitle: str | None = None
    source: str | None = None
    date: str | None = None
    byline: str | None = None
    url: str | None = None
    sections: tuple[Section, ...]

    @field_validator("date")
    @classmethod
    def _date_is_a_date(cls, value: str | None) -> str | None:
        return None if value is None else check_date(value)

    @property
    def paragraphs(self) -> list[str]:
        """Every paragraph of the article, in order, without headings."""
        return [p for section in self.sections for p in section.paragraphs]

    @property
    def body(self) -> str:
        """The article's text: its paragraphs joined by line breaks (chunk offsets point here)."""
        return "\n".join(self.paragraphs)

    @property
    def date_display(self) -> str | None:
        """The date as a Chinese reader writes it: 2021年6月, 2021年6月29日."""
        return format_date(self.date)


class Chunk(BaseModel):
    """A passage of whole sentences from one section of one article."""

    model_config = ConfigDict(frozen=True)

    id: str
    article_id: str
    title: str
    section: str | None
    ordinal: int
    text: str
    start: int
    end: int


class Problem(BaseModel):
    """Something wrong with one corpus file: where, what, and how to fix it."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int | None
    message: str
    fix: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{self.level}: {where}: {self.message}; {self.fix}"
