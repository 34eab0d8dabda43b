"""Web pages: the article's text, title, date, byline and address, without the site around it."""

import re
from typing import Any

import trafilatura
from trafilatura.settings import Document

from corpus.importers.draft import Draft, ImportRefused, build_article, one_line, valid_date
from corpus.text import normalize_text

MAX_HTML_BYTES = 5 * 1024 * 1024
# Less text than this, or no sentence at all, is a list or index page, not an article.
MIN_ARTICLE_CHARS = 40
_SENTENCE_END = re.compile(r"[。！？!?]")
_BLOCKS = ("p", "head", "list", "quote")
_NO_TEXT = ("no article text found (a list or index page, or text the page loads by "
            "script); import the article's own page")


def convert_html(data: bytes, origin: str, fetched_url: str | None = None) -> Draft:
    """Extract the article of one web page; refuse a page without article text."""
    if len(data) > MAX_HTML_BYTES:
        raise ImportRefused(f"{origin}: {len(data)} bytes, over the {MAX_HTML_BYTES} byte "
                            "limit for a web page; save only the article's page")
    document = trafilatura.bare_extraction(
        data, url=fetched_url, with_metadata=True, favor_precision=True,
        include_comments=False, include_tables=False, include_formatting=True,
        date_extraction_params={"extensive_search": True, "original_date": True})
    if not isinstance(document, Document) or document.body is None:
        raise ImportRefused(f"{origin}: {_NO_TEXT}")
    title = normalize_text(document.title or "")
    blocks = [b for b in _blocks(document.body) if not (b[0] == "heading" and b[1] == title)]
    text = "".join(t for kind, t in blocks if kind == "text")
    if len(text) < MIN_ARTICLE_CHARS or not _SENTENCE_END.search(text):
        raise ImportRefused(f"{origin}: {_NO_TEXT}")
    if not title:
        raise ImportRefused(f"{origin}: no title found; add a <title> or <h1> to the page, "
                            "or write the article file by hand")
    author = normalize_text(document.author or "") or None
    article = build_article(title, blocks, [author] if author else None)
    return Draft(origin=origin, article=article, date=valid_date(document.date),
                 source=normalize_text(document.sitename or "") or None,
                 url=document.url or fetched_url)


def _blocks(body: Any) -> list[tuple[str, str]]:
    """Turn trafilatura's body (lxml) into ("heading" | "text", content) blocks, in order."""
    blocks: list[tuple[str, str]] = []
    for element in body.iter(*_BLOCKS):
        if element.getparent() is not body:
            continue
        if element.tag == "list":
            pieces = ["".join(item.itertext()) for item in element.iter("item")]
        else:
            pieces = ["".join(element.itertext())]
        kind = "heading" if element.tag == "head" else "text"
        blocks += [(kind, text) for text in map(normalize_text, pieces) if text]
    return [(kind, one_line(text)) for kind, text in blocks]
