"""`linli search | index | eval | bench`: retrieval from the command line, for developers.

May import all of retrieval/ (the heavy parts inside the commands) and corpus.
"""

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.bm25 import BM25Params
from retrieval.collector import collection_paused
from retrieval.index import (
    SHOWN_NAMES,
    Index,
    RefreshReport,
    index_dir_for,
    refresh_index,
)

# Searching and evaluating are imported by the commands that use them: `linli index`
# does without them (a tenth of a second of its start).
if TYPE_CHECKING:
    from tqdm import tqdm

    from retrieval.search import Answer, Hit, Searcher
    from retrieval.search.gate import Gate

logger = logging.getLogger(__name__)
BOLD, RESET = "\033[1m", "\033[0m"
# A question needs at least one letter, digit or Chinese character (the bot's rule too):
# spaces, punctuation or emoji alone are an empty question.
_WORD = re.compile(r"\w")
EMPTY_QUESTION = ("the question is empty (no words); write it in words, "
                  "e.g. linli search \"哪里可以免费量血压\"")


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the retrieval subcommands on the `linli` parser."""
    search = commands.add_parser("search", help="answer questions from the corpus")
    search.add_argument("question", nargs="?", default="-",
                        help="the question; '-' or none reads one question a line from stdin")
    search.add_argument("-k", type=positive_int, default=3,
                        help="how many passages (default 3)")
    _corpus_option(search)
    search.add_argument("--json", action="store_true", help="one JSON object per question")
    _selftest_option(search)
    search.set_defaults(handler=search_command)

    index = commands.add_parser("index", help="build or refresh the saved index")
    _corpus_option(index)
    index.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    index.add_argument("--json", action="store_true",
                       help="print what changed as JSON, every article named")
    index.set_defaults(handler=index_command)

    evaluation = commands.add_parser("eval", help="measure Hit@1, Hit@3, MRR, no-answer accuracy")
    evaluation.add_argument("questions", type=Path, nargs="?", help="JSONL file of questions")
    _corpus_option(evaluation)
    evaluation.add_argument("--json", action="store_true", help="print JSON")
    evaluation.add_argument(
        "--gov", type=Path, metavar="DIR",
        help="instead: a gov set folder (articles.jsonl, questions.jsonl) or a folder of them")
    evaluation.add_argument("--work", type=Path, metavar="DIR", default=None,
                            help="with --gov: where the article files and indexes are cached")
    evaluation.add_argument("--chart", type=Path, metavar="FILE.png", default=None,
                            help="with --gov: draw the threshold's trade-off into a PNG")
    evaluation.add_argument("--details", type=Path, metavar="FILE.jsonl", default=None,
                            help="with --gov: write each question's result, one JSON a line")
    _selftest_option(evaluation)
    _bm25_options(evaluation)
    evaluation.set_defaults(handler=eval_command)

    bench = commands.add_parser("bench", help="speed, memory and quality on CMRC 2018 at scale")
    bench.add_argument("--data", type=Path, required=True,
                       help="folder with cmrc_corpus.jsonl and cmrc_queries.jsonl")
    bench.add_argument("--sizes", type=sizes, default="1000,10000,100000",
                       help="chunk counts to measure, comma-separated")
    bench.add_argument("--queries", type=int, default=1000, help="queries timed per size")
    bench.add_argument("--no-bm25s", action="store_true", help="skip the bm25s reference")
    bench.add_argument("--quality-only", action="store_true",
                       help="measure CMRC 2018 quality only, no speed")
    bench.add_argument("--files", type=positive_int, default=None,
                       help="instead: write this many article files and time linli as processes")
    bench.add_argument("--runs", type=positive_int, default=1,
                       help="with --files: fresh archives measured (medians reported)")
    bench.add_argument("--json", action="store_true", help="print JSON")
    _bm25_options(bench)
    bench.set_defaults(handler=bench_command)

    calibrate = commands.add_parser(
        "calibrate", help="fit the answer gate on CMRC 2018 split in halves")
    calibrate.add_argument("--data", type=Path, required=True,
                           help="folder with cmrc_corpus.jsonl and cmrc_queries.jsonl")
    calibrate.add_argument("--out", type=Path, default=None,
                           help="where to write the gate (default: print it only)")
    calibrate.add_argument("--target", type=float, default=None,
                           help="share of absent questions answered at most (default 0.05)")
    calibrate.set_defaults(handler=calibrate_command)


def positive_int(value: str) -> int:
    """Parse a whole number of at least 1 (argparse rejects anything else: exit 2)."""
    if not value.strip().isdecimal() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number of at least 1")
    return int(value)


def sizes(value: str) -> list[int]:
    """Parse comma-separated chunk counts, e.g. 1000,10000."""
    try:
        return [positive_int(part) for part in value.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a list of chunk counts; write e.g. 1000,10000") from None


def _bm25_options(parser: argparse.ArgumentParser) -> None:
    defaults = BM25Params()
    parser.add_argument("--variant", choices=["okapi", "l", "plus"], default=defaults.variant,
                        help=f"BM25 variant (default {defaults.variant})")
    parser.add_argument("--k1", type=float, default=defaults.k1, help="BM25 k1")
    parser.add_argument("--b", type=float, default=defaults.b, help="BM25 b")


def bm25_params(args: argparse.Namespace) -> BM25Params:
    """The BM25 parameters chosen on the command line."""
    delta = 0.5 if args.variant == "l" else 1.0  # rank-bm25's defaults for BM25L / BM25Plus
    return BM25Params(variant=args.variant, k1=args.k1, b=args.b, delta=delta)


def _selftest_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-selftest", action="store_true",
                        help="keep the shipped answer threshold (no corpus self-test)")


def _corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=None,
                        help="corpus folder (default: LINLI_CORPUS_DIR or the bundled corpus)")


def progress_printer() -> Callable[[int, int], None]:
    """Show a progress bar (tqdm) on a terminal; in a log, a plain line every 10%."""
    started, last = time.monotonic(), [-1]
    bars: list[tqdm] = []  # made at the first call: the total is known then

    def show(done: int, total: int) -> None:
        if sys.stderr.isatty():
            if not bars:
                from tqdm import tqdm  # a terminal only: logs and `linli search` do without
                bars.append(tqdm(total=total, desc="tokenising", unit=" passages",
                                 file=sys.stderr, dynamic_ncols=True, smoothing=0.1))
            bars[0].update(done - bars[0].n)
            if done >= total:
                bars[0].close()
            return
        if (tenth := 10 * done // max(total, 1)) != last[0]:
            last[0] = tenth
            rate = done / max(time.monotonic() - started, 1e-9)
            left = (total - done) / rate if rate else 0.0
            logger.info("tokenising: %d/%d passages, %.0f/s, %s left", done, total, rate,
                        _duration(left))

    return show


def _duration(seconds: float) -> str:
    """Say a duration briefly: 42 s, 3 min 5 s."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


def open_index(args: argparse.Namespace, force: bool = False,
               params: BM25Params | None = None) -> tuple[Index, RefreshReport]:
    """Load or refresh the index of the chosen corpus."""
    corpus = args.corpus or args.default_corpus
    index_dir = index_dir_for(args.settings.linli_data_dir, corpus)
    index, report = refresh_index(corpus, index_dir, progress=progress_printer(), force=force,
                                  params=params)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    return index, report


def _questions(question: str) -> Iterator[str]:
    if question != "-":
        yield question
        return
    for line in sys.stdin:  # a blank line too gets its (empty) answer: outputs stay in step
        yield line.strip()


def hit_json(hit: "Hit") -> dict[str, object]:
    """Return a hit as the JSON object `linli search --json` prints."""
    return {"rank": hit.rank, "score": round(hit.score, 4), "article_id": hit.article_id,
            "title": hit.title, "source": hit.source, "date": hit.date, "byline": hit.byline,
            "url": hit.url, "section": hit.section, "text": hit.text,
            "best_sentence": hit.best_sentence, "extra_sentence": hit.extra_sentence,
            "coverage": round(hit.coverage, 4)}


def format_hit(hit: "Hit", color: bool) -> str:
    """Render a hit for a terminal, its best sentence in bold."""
    cite = " · ".join(x for x in (hit.section, hit.source, hit.date, hit.byline) if x)
    shown = hit.shown_text
    text = shown.replace(hit.best_sentence, f"{BOLD}{hit.best_sentence}{RESET}", 1) \
        if color else shown
    lines = [f"{hit.rank}. 《{hit.title}》 {cite}  (score {hit.score:.2f}, "
             f"coverage {hit.coverage:.0%})", f"   {text}"]
    if not color:
        lines.append(f"   best: {hit.best_sentence}")
    return "\n".join(lines)


def search_command(args: argparse.Namespace) -> int:
    """Answer each question with its hits; exit 2 when the question given is empty."""
    if args.question != "-" and not _WORD.search(args.question):
        print(f"error: {EMPTY_QUESTION}", file=sys.stderr)
        return 2
    from retrieval.search import MAX_QUESTION_CHARS

    index, _ = open_index(args)
    searcher = _searcher(args, index, run=False)
    color = sys.stdout.isatty()
    for asked in _questions(args.question):
        question, empty = asked[:MAX_QUESTION_CHARS], not _WORD.search(asked)
        found = searcher.answer(question, k=args.k) if not empty else None
        hits = found.hits if found else []
        if args.json:
            print(json.dumps({"question": question, "answered": bool(found and found.answered),
                              "outcome": found.outcome.value if found else "nothing",
                              "confidence": round(found.confidence, 4) if found else 0.0,
                              "empty": empty, "cut": question != asked,
                              "hits": [hit_json(h) for h in hits]}, ensure_ascii=False),
                  flush=True)
            continue
        print(format_question(asked))
        if found is None:
            print(f"   {EMPTY_QUESTION}")
        elif found.answered:
            print(f"   answered (confidence {found.confidence:.2f})")
        elif hits:
            print(f"   no exact answer ({_why_not(found, searcher.gate)}); the closest match:")
        else:
            print("   no answer: the articles do not cover this question")
        if hits:
            print("\n".join(format_hit(h, color) for h in hits))
        print(flush=True)
    return 0


def _why_not(found: "Answer", gate: "Gate") -> str:
    """Say why a closest match is not an answer, in the gate's own terms."""
    from retrieval.search.gate import COVERAGE_FLOOR

    features = found.features
    coverage = features.coverage if features else 0.0
    why = [f"confidence {found.confidence:.2f}, answers from {gate.threshold:.2f}",
           f"coverage {coverage:.0%}, answers from {COVERAGE_FLOOR:.0%}"]
    if features and features.detail_missing:
        why.append("the passage lacks the phone number, price or hours asked for")
    if features and features.place_missing:
        why.append("the passage does not name the place asked about")
    return "; ".join(why)


def format_question(asked: str) -> str:
    """Echo a question; an over-long one by its searched start, saying it was cut."""
    from retrieval.search import MAX_QUESTION_CHARS

    if len(asked) <= MAX_QUESTION_CHARS:
        return f"? {asked}"
    return (f"? {asked[:MAX_QUESTION_CHARS]}…\n   (cut: only the first {MAX_QUESTION_CHARS} "
            f"of {len(asked)} characters are searched)")


def _searcher(args: argparse.Namespace, index: Index, run: bool = True) -> "Searcher":
    """A searcher with the corpus's own threshold, unless one is set or --no-selftest.

    `run`: False takes it from the self-test's cache only (`linli search`).
    """
    from retrieval.search import Searcher
    from retrieval.search.selftest import corpus_gate

    searcher = Searcher(index, gate=_gate(args))
    if not _threshold_set(args) and not getattr(args, "no_selftest", False):
        corpus = args.corpus or args.default_corpus
        searcher.gate = corpus_gate(searcher, index_dir_for(args.settings.linli_data_dir, corpus),
                                    log=lambda line: print(line, file=sys.stderr), run=run)
    return searcher


def _threshold_set(args: argparse.Namespace) -> bool:
    return getattr(args.settings, "linli_answer_threshold", None) is not None


def _gate(args: argparse.Namespace) -> "Gate":
    """The answer gate, with the threshold of LINLI_ANSWER_THRESHOLD if it is set."""
    from retrieval.search.gate import Gate

    return Gate.load().with_threshold(getattr(args.settings, "linli_answer_threshold", None))


def index_command(args: argparse.Namespace) -> int:
    """Build or refresh the index and say what changed; exit 1 if a corpus file has an error.

    The good files are indexed all the same; the exit code tells a script that a file
    was left out (the README's exit-code rule, as `linli corpus` follows it).
    """
    # The index is dropped before the collector runs again: it would walk all its
    # objects (100,000 at 33,000 articles) only to find them alive. The process ends
    # right after: nothing to collect.
    with collection_paused(collect=False):
        report = open_index(args, force=args.force)[1]
    if args.json:
        print(json.dumps({"rebuilt": report.rebuilt, "articles": report.articles,
                          "chunks": report.chunks, "seconds": round(report.seconds, 3),
                          "added": report.added, "changed": report.changed,
                          "removed": report.removed, "problems": len(report.problems)},
                         ensure_ascii=False))
        return _exit_code(report)
    state = ("updated (only the changed articles' passages re-tokenised)" if report.spliced
             else "rebuilt" if report.rebuilt else "up to date")
    print(f"index {state}: {report.articles} articles, {report.chunks} chunks, "
          f"{report.seconds:.2f} s")
    for label, ids in (("added", report.added), ("changed", report.changed),
                       ("removed", report.removed)):
        if report.rebuilt and ids:
            more = (f" and {len(ids) - SHOWN_NAMES} more (--json lists all)"
                    if len(ids) > SHOWN_NAMES else "")
            print(f"  {label} ({len(ids)}): {', '.join(ids[:SHOWN_NAMES])}{more}")
    return _exit_code(report)


def _exit_code(report: RefreshReport) -> int:
    """1 when a corpus file has an error (it is left out of the index), else 0."""
    return 1 if any(p.level == "error" for p in report.problems) else 0


def eval_command(args: argparse.Namespace) -> int:
    """Evaluate the searcher on a question file, or on gov sets with --gov."""
    gov_only = args.work or args.chart or args.details
    if ((args.gov is None) == (args.questions is None) or (args.gov and args.corpus)
            or (gov_only and not args.gov)):
        print("error: give QUESTIONS.jsonl (with --corpus DIR if wanted) or --gov DIR "
              "(with --work, --chart, --details if wanted), not both; e.g. "
              "linli eval --gov ../shared/bench-data/gov", file=sys.stderr)
        return 2
    if args.gov:
        from retrieval.evaluation.gov import run_gov

        return run_gov(args.gov, _gate(args), work=args.work, params=bm25_params(args),
                       as_json=args.json, chart=args.chart, details=args.details,
                       progress=progress_printer(),
                       selftest=not (_threshold_set(args) or args.no_selftest))
    from retrieval.evaluation.evaluate import (
        evaluate,
        evaluate_followups,
        format_followups,
        format_report,
        read_questions,
    )
    from retrieval.search.followup import resolve_pair

    try:
        questions = read_questions(args.questions)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    index, _ = open_index(args, params=bm25_params(args))
    searcher = _searcher(args, index)
    report = evaluate(searcher, questions)
    pairs = [q for q in questions if q.context is not None]
    followups = evaluate_followups(searcher, pairs, resolve_pair) if pairs else None
    if args.json:
        figures: dict[str, object] = {**report.figures(), "misses": report.misses}
        if followups:
            figures["followups"] = {**followups.figures(), "misses": followups.misses}
        print(json.dumps(figures, ensure_ascii=False))
    else:
        if report.answerable + report.unanswerable or not followups:
            print(format_report(report))
        if followups:
            print(format_followups(followups))
    return 0


def bench_command(args: argparse.Namespace) -> int:
    """Run the CMRC 2018 benchmark (see retrieval/evaluation/bench.py)."""
    from retrieval.evaluation.bench import run_bench

    if args.files:
        from retrieval.evaluation.archive_bench import run_archive_bench

        return run_archive_bench(args.data, args.files, args.runs, args.queries, args.json)
    return run_bench(args.data, [] if args.quality_only else args.sizes, args.queries,
                     with_bm25s=not args.no_bm25s, as_json=args.json, params=bm25_params(args))


def calibrate_command(args: argparse.Namespace) -> int:
    """Fit the answer gate and print (or write) it with its figures."""
    from retrieval.evaluation.calibrate import TARGET_ABSENT, calibrate, format_calibration

    gate, report = calibrate(args.data, args.target or TARGET_ABSENT)
    print(format_calibration(report))
    text = gate.to_json(fitted_on="CMRC 2018 split-half", report=report)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"gate written to {args.out}")
    else:
        print(text)
    return 0
