"""Split a raw newspaper page into reviewed article files.

A page holds several articles in column order: a headline, maybe a subtitle,
a lead that begins 本报讯, bylines (记者 … 通讯员 …), section headings, and
line breaks that cut words (全面推 / 行). `split_page` rebuilds the
articles; `write_articles` saves them in the corpus format.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from corpus.models import CorpusError, check_date
from corpus.text import join_lines, normalize_text

MAX_HEADING_CHARS = 40
MAX_NAME_CHARS = 60
_BYLINE = re.compile(r"^(?:(?:本报)?(?:记者|通讯员|实习生|见习记者)\s*[\u4e00-\u9fff·]{2,4}"
                     r"(?:\s+[\u4e00-\u9fff·]{2,4})*\s*)+(?:文/图|图/文|摄影?|文)?$")
_LEAD = re.compile(r"^本报讯")
_FINISHED = re.compile(r"[。！？；!?…]+[”’」』)）]*$")
_SENTENCE_MARK = re.compile(r"[。！？；!?;,，、：:]")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass
class PageArticle:
    """One article rebuilt from a page, before it is written to a file."""

    title: str
    subtitle: str | None = None
    bylines: list[str] = field(default_factory=list)
    sections: list[tuple[str | None, list[str]]] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        """Every paragraph, without headings."""
        return [p for _, paragraphs in self.sections for p in paragraphs]

    def add_paragraph(self, text: str) -> None:
        """Append a paragraph to the current section."""
        if not self.sections:
            self.sections.append((None, []))
        self.sections[-1][1].append(text)


def is_byline(line: str) -> bool:
    """Tell whether a line is a byline such as '记者 柴琳琳 通讯员 黄帅'."""
    return bool(_BYLINE.match(line))


def _is_heading(line: str) -> bool:
    return len(line) <= MAX_HEADING_CHARS and not _SENTENCE_MARK.search(line)


def repair_lines(page: str) -> list[str]:
    """Join lines cut mid-sentence; never join a byline or a 本报讯 lead to the text before."""
    blocks: list[str] = []
    for line in normalize_text(page).split("\n"):
        line = line.strip()
        if not line:
            continue
        previous = blocks[-1] if blocks else ""
        continues = (
            previous
            and not _is_heading(previous)
            and not is_byline(previous)
            and not _FINISHED.search(previous)
            and not is_byline(line)
            and not _LEAD.match(line)
        )
        if continues:
            blocks[-1] = join_lines(previous, line)
        else:
            blocks.append(line)
    return blocks


def _starts_article(blocks: list[str], i: int) -> bool:
    """A headline is followed by a 本报讯 lead, or by a subtitle and then the text."""
    after = blocks[i + 1 : i + 3]
    if not after:
        return False
    if _LEAD.match(after[0]):
        return True
    return (len(after) == 2 and _is_heading(after[0]) and not is_byline(after[0])
            and not _is_heading(after[1]))


def split_page(page: str) -> list[PageArticle]:
    """Rebuild the articles of a newspaper page, in page order."""
    blocks = repair_lines(page)
    articles: list[PageArticle] = []
    skip = 0
    for i, block in enumerate(blocks):
        if skip:
            skip -= 1
            continue
        if is_byline(block):
            if not articles:
                raise CorpusError(f"line '{block}': a byline before any headline")
            articles[-1].bylines.append(block)
        elif _is_heading(block) and (not articles or _starts_article(blocks, i)):
            article = PageArticle(title=block)
            following = blocks[i + 1] if i + 1 < len(blocks) else ""
            if _is_heading(following) and not is_byline(following):
                article.subtitle, skip = following, 1
            articles.append(article)
        elif _is_heading(block):
            articles[-1].sections.append((block, []))
        elif not articles:
            raise CorpusError(f"line '{block[:40]}': text before any headline; "
                              "the page must start with an article's headline")
        else:
            articles[-1].add_paragraph(block)
    return [a for a in articles if a.paragraphs]


def render_markdown(article: PageArticle, source: str | None, date: str | None,
                    url: str | None = None) -> str:
    """Render an article in the corpus format: YAML front matter, then Markdown."""
    front: dict[str, str] = {"title": article.title}
    for name, value in (("subtitle", article.subtitle), ("source", source), ("date", date),
                        ("byline", "；".join(article.bylines) or None), ("url", url)):
        if value:
            front[name] = value
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    parts = [f"---\n{dumped}---"]
    for heading, paragraphs in article.sections:
        if heading:
            parts.append(f"## {heading}")
        parts.extend(paragraphs)
    return "\n\n".join(parts) + "\n"


def file_name(article: PageArticle, date: str | None) -> str:
    """Name the article's file after its date and title."""
    # Long web-page titles would exceed the 255-byte file-name limit of most file systems.
    slug = _UNSAFE_IN_NAME.sub("-", article.title).strip("-")[:MAX_NAME_CHARS].strip("-")
    return f"{date}-{slug}.md" if date else f"{slug}.md"


@dataclass
class WrittenArticle:
    """A row of the import report."""

    path: Path
    title: str
    paragraphs: int
    characters: int


def import_page(page_path: Path, out_dir: Path, *, source: str | None = None,
                date: str | None = None, force: bool = False) -> list[WrittenArticle]:
    """Split a page file into article files under `out_dir`; refuse to overwrite unless forced."""
    if date is not None:
        check_date(date)
    try:
        page = page_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{page_path}: not UTF-8 text; save the page as UTF-8") from None
    articles = split_page(page)
    if not articles:
        raise CorpusError(f"{page_path}: no article found (a headline followed by its text)")
    planned = [(out_dir / file_name(a, date), a) for a in articles]
    existing = [str(path) for path, _ in planned if path.exists()]
    if existing and not force:
        raise CorpusError(f"{', '.join(existing)}: already exists; review it, "
                          "then use --force to overwrite")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, article in planned:
        path.write_text(render_markdown(article, source, date), encoding="utf-8")
        written.append(WrittenArticle(path, article.title, len(article.paragraphs),
                                      sum(len(p) for p in article.paragraphs)))
    return written
