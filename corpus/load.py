"""Read a corpus folder into articles, reporting every file that cannot be used."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import ValidationError

from corpus.listing import corpus_order, list_corpus, read_file, unreadable
from corpus.models import (
    Article,
    ArticleFormatError,
    CorpusError,
    Problem,
    Section,
    check_date,
    is_web_address,
)
from corpus.text import join_lines, normalize_text

logger = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".txt")
MAX_FILE_BYTES = 1024 * 1024
MAX_FRONT_MATTER_BYTES = 16 * 1024  # a title, a date and a few more short fields
MAX_FRONT_MATTER_DEPTH = 20  # fields are flat; anything this deep is not front matter
KNOWN_FIELDS = ("title", "subtitle", "source", "date", "byline", "url")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, but dates stay text so that 2021-13-01 is reported, not raised."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose as usual, but refuse nesting deep enough to exhaust Python's stack."""
        self._depth += 1
        try:
            if self._depth > MAX_FRONT_MATTER_DEPTH:
                mark = self.peek_event().start_mark
                raise _FileProblem(mark.line + 2, "front matter is nested more than "
                                   f"{MAX_FRONT_MATTER_DEPTH} levels deep",
                                   "write each field as 'name: value' on one line")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml's parser when PyYAML was built with it: safe too (no Python object tags), and
# about ten times faster, which a start-up reading thousands of files feels.
_CBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastFrontMatterLoader(_CBase):
    """The C safe loader, dates kept as text; used only where nesting cannot be deep."""


_NO_DATES = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FrontMatterLoader.yaml_implicit_resolvers = _NO_DATES
_FastFrontMatterLoader.yaml_implicit_resolvers = _NO_DATES
# Each level of nesting needs one of these characters (a flow bracket, a block-sequence
# dash, a complex-key mark, a key's colon or a new line): with fewer than the bound, the
# C loader (which cannot count levels as it composes) is safe to use.
_NESTING_MARKS = "[{-?:\n"


def _loader_for(front: str) -> type:
    """Pick the C loader when the text cannot nest past the bound, else the counting one."""
    marks = sum(front.count(mark) for mark in _NESTING_MARKS)
    return _FastFrontMatterLoader if marks < MAX_FRONT_MATTER_DEPTH else _FrontMatterLoader


@dataclass
class CorpusLoad:
    """What `load_corpus` found: the usable articles and every problem, file by file."""

    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """The problems that kept a file out of the corpus."""
        return [p for p in self.problems if p.level == "error"]


class _FileProblem(Exception):
    """Internal: a problem that ends the reading of one file."""

    def __init__(self, line: int | None, message: str, fix: str) -> None:
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


def article_id(path: Path, root: Path) -> str:
    """Return the article id: the path relative to the corpus root, without its suffix."""
    return path.relative_to(root).with_suffix("").as_posix()


def corpus_files(root: Path) -> list[Path]:
    """List the files below `root` that may be read (see `corpus/listing.py`), in order."""
    return [Path(path) for path, _, _ in list_corpus(root).files]


def check_corpus_dir(root: Path) -> None:
    """Raise `CorpusError` if the corpus folder is missing (a quick check before slow work)."""
    if not root.is_dir():
        raise CorpusError(
            f"{root}: corpus folder does not exist; create it or set LINLI_CORPUS_DIR")


FileReader = Callable[[Path, str, str], tuple[Article | None, list[Problem]]]


def load_corpus(root: Path | str, read: FileReader | None = None) -> CorpusLoad:
    """Load every article below `root`; one bad file never stops the others.

    `read` reads one file (path, id, shown name); by default `read_article`.
    """
    root = Path(root)
    check_corpus_dir(root)
    listed = list_corpus(root)
    result = CorpusLoad(problems=list(listed.problems))
    seen: dict[str, str] = {}
    for path, shown, _ in listed.files:
        name = PurePosixPath(shown)
        if name.suffix.lower() not in ARTICLE_SUFFIXES:
            result.problems.append(not_an_article(shown))
            continue
        ident = name.with_suffix("").as_posix()
        if ident in seen:
            result.problems.append(Problem(
                path=shown, line=None, message=f"same article id '{ident}' as {seen[ident]}",
                fix="rename one of the two files",
            ))
            continue
        article, problems = (read or read_article)(Path(path), ident, shown)
        result.problems.extend(problems)
        if article is not None:
            seen[ident] = shown
            result.articles.append(article)
    # The refused entries among the files' problems, in corpus order (the sort is stable).
    result.problems.sort(key=lambda problem: corpus_order(problem.path))
    # Not logged here: the caller reports each problem once, as a plain line on a terminal
    # (`linli corpus`, `search`, `index`, `doctor`) or as a log line in the service.
    return result


def not_an_article(shown: str) -> Problem:
    """The warning for a corpus file that is not .md or .txt."""
    return Problem(path=shown, line=None, level="warning", message="not an article file",
                   fix="use .md or .txt, or move it out of the corpus")


def read_article(path: Path, ident: str, shown: str) -> tuple[Article | None, list[Problem]]:
    """Read one file into an article, or return why it cannot be used."""
    warnings: list[Problem] = []
    try:
        text = _read_text(path)
        if path.suffix.lower() == ".md":
            article = _parse_markdown(text, ident, shown, warnings)
        else:
            article = _parse_plain(text, ident)
    except _FileProblem as problem:
        return None, [*warnings, Problem(path=shown, line=problem.line, message=problem.message,
                                         fix=problem.fix)]
    except Exception as err:  # one file's failure of any kind is only that file's problem
        logger.debug("%s: unexpected failure", shown, exc_info=True)
        return None, [*warnings, Problem(path=shown, line=None,
                                         message=f"cannot be read ({type(err).__name__})",
                                         fix="rewrite it as a plain article file")]
    return article, warnings


def parse_article_text(text: str, ident: str, name: str) -> tuple[Article, list[Problem]]:
    """Parse an article given as text (an upload); raise `ArticleFormatError` naming the line."""
    warnings: list[Problem] = []
    try:
        if name.lower().endswith(".txt"):
            return _parse_plain(text, ident), warnings
        return _parse_markdown(text, ident, name, warnings), warnings
    except _FileProblem as problem:
        where = f"{name}:{problem.line}" if problem.line else name
        raise ArticleFormatError(f"{where}: {problem.message}; {problem.fix}") from None
    except Exception as err:  # never let one upload's text crash the handler
        raise ArticleFormatError(f"{name}: cannot be read ({type(err).__name__}); "
                                 "rewrite it as a plain article file") from None


def _read_text(path: Path) -> str:
    try:
        raw = read_file(path, MAX_FILE_BYTES)
    except OSError as err:
        problem = unreadable("", err)
        raise _FileProblem(None, problem.message, problem.fix) from None
    if len(raw) > MAX_FILE_BYTES:
        size = max(len(raw), _size(path))
        raise _FileProblem(None, f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit",
                           "split it into one file per article")
    if b"\x00" in raw:
        raise _FileProblem(None, "binary file, not text", "save the article as UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise _FileProblem(line, "not UTF-8 text", "save the file as UTF-8 (not GBK)") from None
    if not text.strip():
        raise _FileProblem(None, "empty file", "write the article or delete the file")
    return text


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return the YAML text, the body and the body's first line number."""
    lines = text.split("\n")
    if lines[0].strip() != "---":
        raise _FileProblem(1, "no front matter", "start the file with a '---' line, "
                           "then 'title: ...', then another '---' line")
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return "\n".join(lines[1 : number - 1]), "\n".join(lines[number:]), number + 1
    raise _FileProblem(1, "front matter is never closed", "add a '---' line after the last field")


def _check_front_matter_size(front: str) -> None:
    size = len(front.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise _FileProblem(2, f"front matter is {size} bytes, over the "
                           f"{MAX_FRONT_MATTER_BYTES} byte limit",
                           "keep only title, date and the other short fields in it")


def _load_yaml(front: str) -> dict[str, Any]:
    try:
        data = yaml.load(front, Loader=_loader_for(front))
    except yaml.YAMLError:
        # Broken front matter is rare: read it again with the pure loader, whose messages
        # and marks the problem report is written for.
        data = _load_yaml_slowly(front)
    return _check_fields(data)


def _load_yaml_slowly(front: str) -> Any:
    try:
        return yaml.load(front, Loader=_FrontMatterLoader)
    except yaml.YAMLError as err:
        lines = front.split("\n")
        index = _yaml_error_line(err)
        reason = getattr(err, "problem", None) or "invalid YAML"
        raise _FileProblem(index + 2 if index is not None else 1,
                           f"front matter is not YAML ({reason})",
                           _yaml_fix(lines[index] if index is not None and index < len(lines)
                                     else "")) from None


def _check_fields(data: Any) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _FileProblem(2, "front matter is not a list of fields",
                           "write each field as 'name: value'")
    return data


# Errors found after the line that causes them (an unclosed [ or quote): PyYAML's context
# mark points at the opening, its problem mark only where it gave up.
_OPENED_EARLIER = ("while parsing a flow", "while scanning a quoted", "while scanning a simple")
_NEEDS_QUOTES = re.compile(r"^\s*([^\s:#]+):\s+(.*?)\s*$")


def _yaml_error_line(err: yaml.YAMLError) -> int | None:
    """Return the 0-based front-matter line that causes a YAML error."""
    context = getattr(err, "context", None) or ""
    mark = getattr(err, "context_mark" if context.startswith(_OPENED_EARLIER)
                   else "problem_mark", None)
    return mark.line if mark is not None else None


def _yaml_fix(line: str) -> str:
    """Suggest quotes for a value with a colon or a bracket; else the field syntax."""
    match = _NEEDS_QUOTES.match(line)
    if match and re.search(r":(\s|$)|[][{}]", match.group(2)):
        name, value = match.groups()
        quoted = "'" + value.replace("'", "''") + "'" if '"' in value else f'"{value}"'
        return f"put the value in quotes: {name}: {quoted}"
    return "write each field as 'name: value'"


def _field_line(front: str, name: str) -> int:
    for number, line in enumerate(front.split("\n"), start=2):
        if line.lstrip().startswith(f"{name}:"):
            return number
    return 2


def _field_text(data: dict[str, Any], name: str, front: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _FileProblem(_field_line(front, name), f"{name} is not text",
                           f"write '{name}: ...' on one line")
    return normalize_text(str(value)) or None


def _parse_markdown(text: str, ident: str, shown: str, warnings: list[Problem]) -> Article:
    front, body, body_line = _split_front_matter(text)
    _check_front_matter_size(front)
    data = _load_yaml(front)
    for name in data:
        if name not in KNOWN_FIELDS:
            warnings.append(Problem(
                path=shown, line=_field_line(front, str(name)), level="warning",
                message=f"unknown field '{name}' is ignored",
                fix=f"use only {', '.join(KNOWN_FIELDS)}",
            ))
    fields = {name: _field_text(data, name, front) for name in KNOWN_FIELDS}
    if not fields["title"]:
        raise _FileProblem(2, "no title", "add 'title: ...' to the front matter")
    if fields["date"] is not None:
        try:
            check_date(fields["date"])
        except ArticleFormatError as err:
            raise _FileProblem(_field_line(front, "date"), str(err),
                               "write e.g. 'date: 2021-06'") from None
    if fields["url"] is not None and not is_web_address(fields["url"]):
        # A channel shows it as the article's address (WeChat, the page): only http(s).
        raise _FileProblem(_field_line(front, "url"),
                           f"url '{fields['url']}' is not a web address (http:// or https://)",
                           "write e.g. 'url: https://www.example.gov.cn/news/1.html', "
                           "or remove the line")
    sections = _markdown_sections(body, str(fields["title"]))
    if not sections:
        raise _FileProblem(body_line, "no text after the front matter", "write the article's text")
    return _build_article(ident, fields, sections)


def _parse_plain(text: str, ident: str) -> Article:
    lines = normalize_text(text).split("\n")
    title = lines[0]
    paragraphs = _paragraphs(lines[1:])
    if not paragraphs:
        raise _FileProblem(2, "no text after the title line",
                           "write the article's text below its title")
    return _build_article(ident, {"title": title}, [Section(paragraphs=tuple(paragraphs))])


def _build_article(ident: str, fields: dict[str, str | None], sections: list[Section]) -> Article:
    try:
        return Article(id=ident, sections=tuple(sections), **fields)  # type: ignore[arg-type]
    except ValidationError as err:
        raise _FileProblem(None, f"invalid article: {err.errors()[0]['msg']}",
                           "check the front matter") from None


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current = ""
    for line in [*lines, ""]:
        line = line.strip()
        if line:
            current = join_lines(current, line)
        elif current:
            paragraphs.append(current)
            current = ""
    return paragraphs


def _markdown_sections(body: str, title: str) -> list[Section]:
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []

    def close() -> None:
        paragraphs = _paragraphs(lines)
        if paragraphs:
            sections.append(Section(heading=heading, paragraphs=tuple(paragraphs)))

    for line in normalize_text(body).split("\n"):
        match = _HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        if len(match.group(1)) == 1 and match.group(2) == title:
            continue
        close()
        heading, lines = match.group(2), []
    close()
    return sections
