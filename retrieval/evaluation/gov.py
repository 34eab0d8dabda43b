"""`linli eval --gov DIR`: retrieval measured on government-service question sets.

A set is a folder holding `articles.jsonl` (`id`, `title`, `date`, `source`, `text`, its
paragraphs separated by blank lines) and `questions.jsonl` (`q`, `in`, `article_id`,
`answers`). Its articles are written as ordinary article files into a cache folder,
indexed by `refresh_index` as `linli index` does, and every question is asked through
the real `Searcher`, as `linli search --json` asks it.

The figures and their rendering are in `gov_figures`. May import corpus, pydantic,
platformdirs, `retrieval.bm25`, `retrieval.index`, `retrieval.search` and `gov_figures`.
"""

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from platformdirs import user_cache_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import corpus
import retrieval
from corpus.models import CorpusError, check_date
from corpus.newspaper import PageArticle, render_markdown
from corpus.text import normalize_text
from retrieval.bm25 import BM25Params
from retrieval.evaluation.gov_figures import (
    Result,
    SetReport,
    curve,
    figures,
    format_set,
    write_chart,
)
from retrieval.index import refresh_index
from retrieval.search import Gate, Searcher
from retrieval.search.selftest import cache_file, corpus_gate

ARTICLES, QUESTIONS = "articles.jsonl", "questions.jsonl"
WRITER_VERSION = 1  # bump when article files are written differently: caches are rewritten
K = 3  # passages asked for: `linli search`'s default and the bot's sources per question
RANKED = 10  # articles ranked for R@1, R@5 and MRR@10
KEPT_INDEXES = 3  # index folders kept per set (one per version of the index's code)
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
FORMAT_HINT = ('articles.jsonl lines are {"id", "title", "date", "source", "text"}, '
               'questions.jsonl lines {"q", "in", "article_id", "answers"}')
_ROOTS = {package.__name__: Path(str(package.__file__)).parent for package in (corpus, retrieval)}
_Line = TypeVar("_Line", bound=BaseModel)


class GovDataError(CorpusError):
    """A gov set folder or one of its lines cannot be read."""


def paragraphs(text: str) -> list[str]:
    """Split an article's text into its paragraphs (blank lines between them)."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


class GovArticle(BaseModel):
    """A line of articles.jsonl."""

    model_config = ConfigDict(strict=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    date: str = ""
    source: str = ""
    text: str

    @model_validator(mode="after")
    def _usable(self) -> "GovArticle":
        if self.date:  # an empty date is none: the article file leaves it out
            check_date(self.date)
        if not paragraphs(self.text):
            raise ValueError("text is blank; give the article's text")
        return self


class GovQuestion(BaseModel):
    """A line of questions.jsonl: `present` is the file's `in`."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    q: str = Field(min_length=1)
    present: bool = Field(alias="in")
    article_id: str
    answers: list[str] = []


@dataclass(frozen=True)
class GovSet:
    """One set as read: its articles, questions, and a digest of the articles file."""

    name: str
    folder: Path
    articles: list[GovArticle]
    questions: list[GovQuestion]
    digest: str


def set_folders(folder: Path) -> list[Path]:
    """Return `folder` if it is a set, else its sub-folders that are sets."""
    def is_set(path: Path) -> bool:
        return (path / ARTICLES).exists() or (path / QUESTIONS).exists()

    found = [folder] if is_set(folder) else sorted(
        sub for sub in folder.iterdir() if is_set(sub)) if folder.is_dir() else []
    if not found:
        raise GovDataError(f"{folder}: not found, or holds no {ARTICLES} and {QUESTIONS} nor a "
                           "folder that does; give a gov set folder (gov/policy) or their parent")
    return found


def _read(path: Path, model: type[_Line]) -> tuple[list[tuple[int, _Line]], bytes]:
    if not path.is_file():
        raise GovDataError(f"{path}: not found; a gov set folder holds {ARTICLES} and "
                           f"{QUESTIONS}")
    data, rows = path.read_bytes(), []
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        at = data[:err.start].count(b"\n") + 1
        raise GovDataError(f"{path}:{at}: not UTF-8; save the file as UTF-8") from None
    for number, line in enumerate(lines, 1):
        try:
            rows += [(number, model.model_validate_json(line))] if line.strip() else []
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise GovDataError(f"{path}:{number}: {where + ': ' if where else ''}"
                               f"{first['msg']}; {FORMAT_HINT}") from None
    if not rows:
        raise GovDataError(f"{path}: no lines; a gov set needs articles and questions")
    return rows, data


def read_set(folder: Path) -> GovSet:
    """Read a set folder; raise GovDataError naming the file and line of a bad line."""
    articles_path, questions_path = folder / ARTICLES, folder / QUESTIONS
    articles, data = _read(articles_path, GovArticle)
    questions, _ = _read(questions_path, GovQuestion)
    lines: dict[str, int] = {}
    for number, article in articles:
        if article.id in lines:
            raise GovDataError(f"{articles_path}:{number}: id '{article.id}' is also on line "
                               f"{lines[article.id]}; give each article its own id")
        lines[article.id] = number
    for number, question in questions:
        if question.present != (question.article_id in lines):
            state = "is not" if question.present else "is"
            raise GovDataError(f"{questions_path}:{number}: in is {str(question.present).lower()}"
                               f" but article_id '{question.article_id}' {state} in "
                               f"{ARTICLES}; correct `in` or the id")
    digest = hashlib.sha256(f"{WRITER_VERSION}\n".encode() + data).hexdigest()
    return GovSet(folder.name, folder, [a for _, a in articles], [q for _, q in questions],
                  digest)


def file_stem(article_id: str) -> str:
    """Name an article's file: its id if that is a safe file name, else a hash of it."""
    if _SAFE_NAME.fullmatch(article_id):
        return article_id
    return "id-" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:16]


def write_corpus(gov: GovSet, folder: Path) -> Path:
    """Write the set's articles as article files under `folder` (kept if already there)."""
    target = folder / "corpus"
    if target.is_dir():
        return target  # written whole, then renamed into place: complete
    partial = folder / f"corpus.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for article in gov.articles:
        page = PageArticle(title=article.title, sections=[(None, paragraphs(article.text))])
        text = render_markdown(page, article.source or None, article.date or None)
        (partial / f"{file_stem(article.id)}.md").write_text(text, encoding="utf-8")
    try:
        partial.rename(target)
    except OSError:  # another run wrote it first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def index_sources() -> list[Path]:
    """The code that builds an index: what retrieval/index/ may import, and itself.

    (corpus, `retrieval.bm25`, `retrieval.collector`, `retrieval.text`: its package says
    so, and never `retrieval.search`.)
    """
    parts = [_ROOTS["corpus"], *(_ROOTS["retrieval"] / name for name in (
        "__init__.py", "bm25.py", "collector.py", "text", "index"))]
    return sorted(path for part in parts for path in ([part] if part.is_file()
                                                     else part.rglob("*.py")))


def index_digest() -> str:
    """Hash the index's code and every data file: a change rebuilds the set's index.

    A change to searching alone (retrieval/search/) keeps it, as it keeps the bot's.
    """
    digest = hashlib.sha256()
    data = [p for root in _ROOTS.values() for p in root.rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    for path in index_sources() + sorted(data):
        root = next(r for r in _ROOTS.values() if path.is_relative_to(r))
        digest.update(f"{path.relative_to(root.parent)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Built:
    """The index of one set, how long it took, and two searchers over it."""

    searcher: Searcher
    floors_only: Searcher  # the same index with threshold 0: what each threshold answers
    ids: dict[str, str]  # the index's article id -> the set's id
    built: bool  # built now (else loaded from the cache)
    seconds: float


def open_set(gov: GovSet, work: Path, gate: Gate, params: BM25Params | None = None,
             progress: Callable[[int, int], None] | None = None,
             selftest: bool = False) -> Built:
    """Write (or reuse) the set's article files and build (or load) their index.

    `selftest`: the gate takes the corpus's own threshold, as `linli search` does.
    """
    started = time.perf_counter()
    folder = work / f"{gov.name}-{gov.digest[:16]}"
    corpus_dir = write_corpus(gov, folder)
    key = hashlib.sha256(f"{index_digest()} {params}".encode()).hexdigest()[:16]
    index, report = refresh_index(corpus_dir, folder / f"index-{key}", params=params,
                                  progress=progress)
    os.utime(folder / f"index-{key}")
    for old in sorted((p for p in folder.glob("index-*") if p.is_dir()),
                      key=lambda p: p.stat().st_mtime)[:-KEPT_INDEXES]:
        shutil.rmtree(old, ignore_errors=True)
        cache_file(old).unlink(missing_ok=True)
    ids = {file_stem(a.id): a.id for a in gov.articles}
    if report.problems or set(index.article_ids) != set(ids):
        shown = "; ".join(str(p) for p in report.problems[:3]) or "the ids differ"
        raise GovDataError(f"{corpus_dir}: {len(index.article_ids)} of {len(ids)} articles "
                           f"indexed ({shown}); delete {folder} and run again")
    if selftest:  # from the set's articles only, never its questions
        gate = corpus_gate(Searcher(index, gate=gate), folder / f"index-{key}")
    return Built(Searcher(index, gate=gate), Searcher(index, gate=gate.with_threshold(0.0)),
                 ids, report.rebuilt, time.perf_counter() - started)


def normalise_span(text: str) -> str:
    """Reduce text to its letters and digits, lower-case (answers and passages alike)."""
    return "".join(char for char in normalize_text(text).lower() if char.isalnum())


def ask(built: Built, question: GovQuestion) -> Result:
    """Ask one question as `linli search --json` does, and rank the articles for it."""
    found = built.searcher.answer(question.q, k=K)
    gold = question.article_id if question.present else None
    floors = found.features is not None and built.searcher.gate.answers(found.features, 0.0)
    if found.answered != (floors and found.confidence >= built.searcher.gate.threshold):
        raise RuntimeError(f"the gate's outcome for {question.q!r} is not its floors and "
                           "threshold: the evaluation no longer matches the searcher")
    first = found.hits[0] if found.answered else (
        built.floors_only.answer(question.q, k=K).hits[0] if floors else None)
    shown = found.hits[0] if found.hits else None
    rank = None
    if gold is not None:
        ranked = [built.ids[h.article_id] for h in built.searcher.rank(question.q, k=RANKED)]
        rank = ranked.index(gold) + 1 if gold in ranked else None
    span = None
    if gold is not None and question.answers:
        text = normalise_span(shown.shown_text) if shown else ""
        span = any(normalise_span(a) and normalise_span(a) in text for a in question.answers)
    return Result(question.present, rank, found.answered,
                  shown is not None and built.ids[shown.article_id] == gold, found.confidence,
                  floors, first is not None and built.ids[first.article_id] == gold, span)


def measure(gov: GovSet, work: Path, gate: Gate, params: BM25Params | None = None,
            progress: Callable[[int, int], None] | None = None, selftest: bool = False,
            ) -> tuple[SetReport, list[Result]]:
    """Build the set's index, ask every question, and report, with each question's result."""
    built = open_set(gov, work, gate, params, progress, selftest)
    gate = built.searcher.gate
    asked = time.perf_counter()
    results = [ask(built, q) for q in gov.questions]
    seconds, present = time.perf_counter() - asked, sum(r.present for r in results)
    return SetReport(gov.name, str(gov.folder), len(gov.articles),
                     len(built.searcher.index.chunks), len(results),
                     present, len(results) - present, sum(r.span is not None for r in results),
                     gate.threshold, built.built, round(built.seconds, 2), round(seconds, 2),
                     figures(results), curve(results, gate.threshold)), results


def run_gov(folder: Path, gate: Gate, *, work: Path | None = None,
            params: BM25Params | None = None, as_json: bool = False,
            chart: Path | None = None, details: Path | None = None,
            progress: Callable[[int, int], None] | None = None, selftest: bool = False) -> int:
    """Measure every set under `folder`; print the reports, draw the chart, write the details."""
    started = time.perf_counter()
    sets = [read_set(sub) for sub in set_folders(folder)]  # every file checked before any work
    reports, lines = [], []
    for gov in sets:
        report, results = measure(gov, work or Path(user_cache_dir("linli")) / "gov", gate,
                                  params, progress, selftest)
        reports.append(report)
        lines += [json.dumps({"set": gov.name, "q": q.q, "in": q.present,
                              "article_id": q.article_id, **asdict(r)}, ensure_ascii=False)
                  + "\n" for q, r in zip(gov.questions, results, strict=True)]
        if not as_json:
            print(format_set(report), flush=True)
    if details:
        details.write_text("".join(lines), encoding="utf-8")
    if chart:
        write_chart(reports, chart)
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        print(json.dumps({"sets": [asdict(r) for r in reports], "seconds": seconds},
                         ensure_ascii=False))
    else:
        print(f"{len(reports)} set(s) in {seconds:.2f} s" + (f"; chart: {chart}" if chart else "")
              + (f"; details: {details}" if details else ""))
    return 0
