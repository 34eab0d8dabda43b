"""`linli eval --gov DIR`: retrieval measured on government-service question sets.

A set is a folder holding `articles.jsonl` (`id`, `title`, `date`, `source`, `text`, its
paragraphs separated by blank lines) and `questions.jsonl` (`q`, `in`, `article_id`,
`answers`). Its articles are written as ordinary article files into a cache folder,
indexed by `refresh_index` as `linli index` does, and every question is asked through
the real `Searcher`, as `linli search --json` asks it.

May import corpus, pydantic, platformdirs, matplotlib (for the chart), `retrieval.bm25`,
`retrieval.index` and `retrieval.search`.
"""

import ast
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
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
from retrieval.index import refresh_index
from retrieval.search import Gate, Searcher
from retrieval.search.selftest import corpus_gate

ARTICLES, QUESTIONS = "articles.jsonl", "questions.jsonl"
WRITER_VERSION = 1  # bump when article files are written differently: caches are rewritten
K = 3  # passages asked for: `linli search`'s default and the bot's sources per question
RANKED = 10  # articles ranked for R@1, R@5 and MRR@10
THRESHOLDS = tuple(round(0.30 + 0.05 * step, 2) for step in range(14))  # 0.30 .. 0.95
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


def _imports(path: Path, name: str) -> set[str]:
    """The corpus and retrieval modules a module imports (at its top or in a function)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return {n for n in found if n.partition(".")[0] in _ROOTS}


def index_sources() -> list[Path]:
    """The modules `refresh_index` reaches by imports: the code that builds an index."""
    seen: set[Path] = set()
    todo = [refresh_index.__module__]
    while todo:
        parts = (name := todo.pop()).split(".")
        folder = _ROOTS[parts[0]].joinpath(*parts[1:])
        path = next((p for p in (folder.with_suffix(".py"), folder / "__init__.py")
                     if p.is_file()), None)
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # its packages run too
        if path is not None and path not in seen:
            seen.add(path)
            todo += sorted(_imports(path, name))
    return sorted(seen)


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
    passages: int


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
    for old in sorted(folder.glob("index-*"), key=lambda p: p.stat().st_mtime)[:-KEPT_INDEXES]:
        shutil.rmtree(old, ignore_errors=True)
    ids = {file_stem(a.id): a.id for a in gov.articles}
    if report.problems or set(index.article_ids) != set(ids):
        shown = "; ".join(str(p) for p in report.problems[:3]) or "the ids differ"
        raise GovDataError(f"{corpus_dir}: {len(index.article_ids)} of {len(ids)} articles "
                           f"indexed ({shown}); delete {folder} and run again")
    if selftest:  # from the set's articles only, never its questions
        gate = corpus_gate(Searcher(index, gate=gate), folder / f"index-{key}")
    return Built(Searcher(index, gate=gate), Searcher(index, gate=gate.with_threshold(0.0)),
                 ids, report.rebuilt, time.perf_counter() - started, report.chunks)


@dataclass(frozen=True)
class Result:
    """One question asked: what the ranking and the answer gave."""

    present: bool  # its article is in the set
    rank: int | None  # the gold article's place among the ranked articles (gate ignored)
    answered: bool  # answered at the gate's threshold (not a closest match, not nothing)
    shown_right: bool  # the passage shown first (answered or closest match) is the gold article's
    confidence: float
    floors: bool  # past the gate's floors: answered at any threshold up to its confidence
    first_right: bool  # the passage answered first, past the floors, is the gold article's
    span: bool | None  # the passage shown holds the answer span (None: no span given)


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


def _share(count: float, total: int) -> float | None:
    return count / total if total else None


def at_threshold(results: list[Result], threshold: float) -> dict[str, float | None]:
    """Answered right / wrong (of the present) and absent answered, had the gate used this."""
    present = sum(r.present for r in results)
    answered = [r for r in results if r.floors and r.confidence >= threshold]
    right = sum(r.present and r.first_right for r in answered)
    return {"threshold": threshold, "answered_right": _share(right, present),
            "answered_wrong": _share(sum(r.present for r in answered) - right, present),
            "absent_answered": _share(sum(not r.present for r in answered),
                                      len(results) - present)}


def figures(results: list[Result]) -> dict[str, float | None]:
    """The set's figures at the gate's own threshold."""
    present = [r for r in results if r.present]
    spans, n = [r for r in present if r.span is not None], len(present)
    return {"r@1": _share(sum(r.rank == 1 for r in present), n),
            "r@5": _share(sum(r.rank is not None and r.rank <= 5 for r in present), n),
            "mrr@10": _share(sum(1 / r.rank for r in present if r.rank), n),
            "shown_first_right": _share(sum(r.shown_right for r in present), n),
            "answered_right": _share(sum(r.answered and r.first_right for r in present), n),
            "answered_wrong": _share(sum(r.answered and not r.first_right for r in present), n),
            "absent_answered": _share(sum(r.answered for r in results if not r.present),
                                      len(results) - n),
            "span_shown": _share(sum(bool(r.span) for r in spans), len(spans)),
            "span_answered": _share(sum(bool(r.span) and r.answered for r in spans), len(spans))}


def curve(results: list[Result], threshold: float) -> list[dict[str, float | None]]:
    """The trade-off as the threshold moves (0.30 to 0.95, and the gate's own)."""
    return [at_threshold(results, t) for t in sorted({*THRESHOLDS, threshold})]


@dataclass
class SetReport:
    """One set measured: its sizes, timings, figures and trade-off curve."""

    name: str
    folder: str
    articles: int
    passages: int
    questions: int
    present: int
    absent: int
    spans: int  # present questions that give an answer span
    threshold: float
    index_built: bool
    index_seconds: float
    questions_seconds: float
    figures: dict[str, float | None]
    curve: list[dict[str, float | None]]


def measure(gov: GovSet, work: Path, gate: Gate, params: BM25Params | None = None,
            progress: Callable[[int, int], None] | None = None, selftest: bool = False,
            ) -> tuple[SetReport, list[Result]]:
    """Build the set's index, ask every question, and report, with each question's result."""
    built = open_set(gov, work, gate, params, progress, selftest)
    gate = built.searcher.gate
    asked = time.perf_counter()
    results = [ask(built, q) for q in gov.questions]
    seconds, present = time.perf_counter() - asked, sum(r.present for r in results)
    return SetReport(gov.name, str(gov.folder), len(gov.articles), built.passages, len(results),
                     present, len(results) - present, sum(r.span is not None for r in results),
                     gate.threshold, built.built, round(built.seconds, 2), round(seconds, 2),
                     figures(results), curve(results, gate.threshold)), results


_LABELS = {"r@1": "right article first, gate ignored (R@1)", "mrr@10": "MRR@10",
           "r@5": "right article in the top 5 (R@5)",
           "shown_first_right": "passage shown first is the right article's (answered or closest)",
           "answered_right": "answered right (answered, the right article first)",
           "answered_wrong": "answered wrong (answered, another article first)",
           "absent_answered": "absent answered (of the questions without their article)",
           "span_shown": "answer span in the passage shown (answered or closest match)",
           "span_answered": "answered, with the answer span in the passage shown"}


def _rate(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"


def format_set(report: SetReport) -> str:
    """Render one set's report for a terminal."""
    lines = [f"{report.name} ({report.folder}): {report.articles} articles, "
             f"{report.passages} passages, {report.questions} questions "
             f"({report.present} with their article, {report.absent} without)",
             f"  index {'built' if report.index_built else 'loaded'} in "
             f"{report.index_seconds:.2f} s, questions asked in "
             f"{report.questions_seconds:.2f} s; answer threshold {report.threshold:.2f}"]
    lines += [f"  {_rate(value):>6}  {_LABELS[key]}" for key, value in report.figures.items()
              if value is not None or not key.startswith("span")]
    lines.append("  threshold  answered right  answered wrong  absent answered")
    for row in report.curve:
        mark = "  (the gate's)" if row["threshold"] == report.threshold else ""
        lines.append(f"  {row['threshold'] or 0:9.2f}  {_rate(row['answered_right']):>14}  "
                     f"{_rate(row['answered_wrong']):>14}  {_rate(row['absent_answered']):>15}"
                     f"{mark}")
    return "\n".join(lines)


def write_chart(reports: Iterable[SetReport], path: Path) -> None:
    """Draw answered right against absent answered as the threshold moves, one line a set."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    for report in reports:
        xs = [100 * (row["absent_answered"] or 0) for row in report.curve]
        ys = [100 * (row["answered_right"] or 0) for row in report.curve]
        line, = axes.plot(xs, ys, marker=".", label=report.name)
        for x, y, row in zip(xs, ys, report.curve, strict=True):
            gates = row["threshold"] == report.threshold
            if gates:
                axes.plot([x], [y], "o", color=line.get_color(), markersize=9)
            if gates or row["threshold"] in (0.3, 0.5, 0.8, 0.95):
                axes.annotate(f"{row['threshold']:.2f}", (x, y), textcoords="offset points",
                              xytext=(6, -12) if gates else (4, 4), fontsize=10 if gates else 8)
    axes.axvline(5, color="grey", linestyle="--", linewidth=1, label="5% absent answered")
    axes.set(xlabel="questions without their article that get an answer (%)",
             ylabel="questions answered with the right article (%)", ylim=(0, 100),
             title="linli on the gov sets: the answer threshold's trade-off")
    axes.set_xlim(left=0)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


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
