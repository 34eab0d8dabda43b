"""A converted article awaiting review: its text, its citation fields, what is missing."""

from dataclasses import dataclass, replace
from functools import reduce

from corpus.models import CorpusError, check_date
from corpus.newspaper import PageArticle, file_name, is_byline, render_markdown, split_page
from corpus.text import join_lines

# Fields a resident's citation shows; the review table names those not found.
CITATION_FIELDS = ("date", "source", "byline", "url")


class ImportRefused(CorpusError):
    """One source cannot be imported: the message says what was wrong and what to do."""


@dataclass(frozen=True)
class Draft:
    """One article converted from a source, before it is written to a file."""

    origin: str
    article: PageArticle
    date: str | None = None
    source: str | None = None
    url: str | None = None

    def with_metadata(self, source: str | None, date: str | None) -> "Draft":
        """Return the draft with the command line's source and date, which win."""
        if date is not None:
            check_date(date)
        return replace(self, source=source or self.source, date=date or self.date)

    @property
    def byline(self) -> str | None:
        """The bylines joined as the corpus format writes them."""
        return "；".join(self.article.bylines) or None

    @property
    def missing(self) -> list[str]:
        """The citation fields that were not found."""
        found = {"date": self.date, "source": self.source, "byline": self.byline,
                 "url": self.url}
        return [name for name in CITATION_FIELDS if not found[name]]

    @property
    def characters(self) -> int:
        """How many characters of text the article has."""
        return sum(len(p) for p in self.article.paragraphs)

    def file_name(self) -> str:
        """Name the article's file after its date and title."""
        return file_name(self.article, self.date)

    def markdown(self) -> str:
        """Render the article in the corpus format."""
        return render_markdown(self.article, self.source, self.date, url=self.url)


def valid_date(value: str | None) -> str | None:
    """Return an extracted date if it is one the corpus accepts, else None."""
    if not value:
        return None
    try:
        return check_date(value)
    except ValueError:
        return None


def build_article(title: str, blocks: list[tuple[str, str]],
                  bylines: list[str] | None = None) -> PageArticle:
    """Assemble an article from ("heading" | "text", content) blocks; bylines go aside."""
    article = PageArticle(title=title, bylines=list(bylines or []))
    for kind, text in blocks:
        if kind == "heading":
            article.sections.append((text, []))
        elif is_byline(text):
            if text not in article.bylines:
                article.bylines.append(text)
        else:
            article.add_paragraph(text)
    article.sections = [(h, ps) for h, ps in article.sections if ps]
    return article


def one_line(text: str) -> str:
    """Join the lines of one paragraph, with a space only between Latin words."""
    return reduce(join_lines, (line.strip() for line in text.split("\n")), "")


def page_drafts(text: str, origin: str) -> list[Draft]:
    """Split a newspaper page's text into drafts, one per article (import-page's split)."""
    try:
        articles = split_page(text)
    except CorpusError as err:
        raise ImportRefused(f"{origin}: {err}") from None
    if not articles:
        raise ImportRefused(f"{origin}: no article found (a headline followed by its text)")
    return [Draft(origin=origin, article=article) for article in articles]
