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
# A page's information line: 发布时间：2021-07-08 来源：管城区融媒体中心 作者：记者 王小明.
_INFO_LABEL = re.compile(r"(发布时间|发布日期|时间|日期|来源|作者|责任编辑|编辑|浏览次数|点击数|"
                         r"阅读次数|字号)\s*[：:]")
MAX_INFO_CHARS = 160  # an information line is short; a paragraph is not one
_INFO_TAGS = ("div", "p", "span", "td", "li", "section", "font", "em", "small")
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
    # 来源：/作者： lines: the article's own word on its source and author, not its text.
    info = _page_info(data)
    for kind, text in blocks:
        if kind == "text" and (fields := info_fields(text)) is not None:
            info = {**fields, **info} if info else fields
    blocks = [b for b in blocks if b[0] != "text" or info_fields(b[1]) is None]
    text = "".join(t for kind, t in blocks if kind == "text")
    if len(text) < MIN_ARTICLE_CHARS or not _SENTENCE_END.search(text):
        raise ImportRefused(f"{origin}: {_NO_TEXT}")
    if not title:
        raise ImportRefused(f"{origin}: no title found; add a <title> or <h1> to the page, "
                            "or write the article file by hand")
    author = info.get("作者") or normalize_text(document.author or "") or None
    article = build_article(title, blocks, [author] if author else None)
    source = info.get("来源") or normalize_text(document.sitename or "") or None
    return Draft(origin=origin, article=article, date=valid_date(document.date),
                 source=source, url=document.url or fetched_url)


def info_fields(line: str) -> dict[str, str] | None:
    """Split an information line into its labelled values; None if the line is not one.

    The line starts with a label (来源：, 作者：, 发布时间：...) and is short; each value
    runs to the next label. Only 来源 and 作者 make it an information line.
    """
    line = normalize_text(line)
    labels = list(_INFO_LABEL.finditer(line))
    if not labels or labels[0].start() > 0 or len(line) > MAX_INFO_CHARS:
        return None
    fields: dict[str, str] = {}
    for label, after in zip(labels, [*labels[1:], None], strict=True):
        value = line[label.end(): after.start() if after else len(line)].strip(" |｜/")
        if value:
            fields.setdefault(label.group(1), value)
    return fields if fields.keys() & {"来源", "作者"} else None


def _page_info(data: bytes) -> dict[str, str]:
    """The first information line found anywhere on the page (trafilatura drops it)."""
    tree = trafilatura.load_html(data)
    if tree is None:
        return {}
    for element in tree.iter(*_INFO_TAGS):
        text = "".join(element.itertext())
        if len(text) <= MAX_INFO_CHARS * 2 and (fields := info_fields(text)) is not None:
            return fields
    return {}


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
