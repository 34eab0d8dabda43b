"""`linli bench --files N`: a district's archive as files on disk, measured as users meet it.

The CMRC 2018 contexts are written as N Markdown article files (copied under new ids,
as `retrieval.evaluation.bench.replicate` does) into a temporary corpus folder; then `linli index`
and `linli search` run as processes, with LINLI_DATA_DIR and LINLI_CORPUS_DIR pointing
at temporary folders, and the figures are what those processes took.
May import corpus and all of retrieval/ but the CLI (the CLI runs as a process).
"""

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from corpus.models import Article
from retrieval.evaluation.cmrc import read_cmrc
from retrieval.evaluation.timing import cpu_count, time_queries

# Run a command and print its wall time and peak resident memory (its own, not ours).
_TIMED = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
if done.returncode:
    sys.exit(done.stderr.decode("utf-8", "replace")[-2000:])
print(json.dumps({"s": seconds,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def write_archive(articles: list[Article], n_files: int, folder: Path) -> list[Path]:
    """Write `n_files` Markdown articles from the contexts, copies under new ids."""
    paths = []
    for i in range(n_files):
        article = articles[i % len(articles)]
        ident = f"{article.id}~{i // len(articles)}"
        path = folder / f"{ident}.md"
        # CMRC contexts have no title: the file's id stands in (the same in every copy).
        path.write_text(f"---\ntitle: {article.id}\n---\n{article.body}\n", encoding="utf-8")
        paths.append(path)
    return paths


def _linli() -> list[str]:
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


def _timed(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command` as a process; return its wall time and its peak resident memory."""
    done = subprocess.run([sys.executable, "-c", _TIMED, *command], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[3:])} failed: {done.stderr.strip()}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def measure_searching(corpus: str, data_dir: str, questions_file: str,
                      changed_file: str) -> dict[str, Any]:
    """In a fresh process: start as `linli search` does, time questions, then one /reload."""
    import logging

    import jieba

    from retrieval.collector import freeze_loaded_objects
    from retrieval.index import index_dir_for, refresh_index
    from retrieval.search import Searcher
    from retrieval.text.tokenize import Tokenizer

    jieba.setLogLevel(logging.WARNING)
    started = time.perf_counter()
    Tokenizer()  # jieba's own dictionary: loaded once per process
    row: dict[str, Any] = {"jieba_dictionary_s": time.perf_counter() - started}
    index_dir = index_dir_for(Path(data_dir), Path(corpus))
    started = time.perf_counter()
    index, _ = refresh_index(Path(corpus), index_dir)
    searcher = Searcher(index)
    row["load_s"] = time.perf_counter() - started
    freeze_loaded_objects()
    questions = json.loads(Path(questions_file).read_text(encoding="utf-8"))
    row["search"] = time_queries(lambda q: searcher.search(q, k=3), questions)
    row["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    target = Path(changed_file)
    target.write_text(target.read_text(encoding="utf-8") + "\n本段为测量而加。\n",
                      encoding="utf-8")
    started = time.perf_counter()
    # As /reload does: the new index serves at once, then it is saved.
    fresh, report = refresh_index(Path(corpus), index_dir, keep_from=index, defer_save=True)
    Searcher(fresh)
    row["reload_one_changed_s"] = time.perf_counter() - started
    if report.pending is not None:
        report.pending()
    row["reload_saved_s"] = time.perf_counter() - started
    row["reload_spliced"] = report.spliced
    if report.changed != [target.stem]:
        raise RuntimeError(f"expected one changed article, got {report.changed[:3]}")
    return row


def archive_run(articles: list[Article], questions: list[str], n_files: int) -> dict[str, Any]:
    """Measure one run on a fresh archive of `n_files` files."""
    with tempfile.TemporaryDirectory(prefix="linli-archive-") as folder:
        root = Path(folder)
        corpus, data = root / "corpus", root / "data"
        corpus.mkdir()
        paths = write_archive(articles, n_files, corpus)
        env = {**os.environ, "LINLI_CORPUS_DIR": str(corpus), "LINLI_DATA_DIR": str(data)}
        row: dict[str, Any] = {"files": n_files}
        row["build"] = _timed([*_linli(), "index"], env)
        row["start_to_first_answer"] = _timed([*_linli(), "search", questions[0]], env)
        (root / "questions.json").write_text(json.dumps(questions, ensure_ascii=False),
                                             encoding="utf-8")
        code = ("import json, sys; "
                "from retrieval.evaluation.archive_bench import measure_searching; "
                "print(json.dumps(measure_searching(*sys.argv[1:])))")
        done = subprocess.run([sys.executable, "-c", code, str(corpus), str(data),
                               str(root / "questions.json"), str(paths[0])],
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"searching process failed: {done.stderr.strip()[-2000:]}")
        row["searching"] = json.loads(done.stdout.strip().splitlines()[-1])
        row["index_unchanged"] = _timed([*_linli(), "index"], env)
        changed = paths[1]
        changed.write_text(changed.read_text(encoding="utf-8") + "\n又一段。\n", encoding="utf-8")
        row["index_one_changed"] = _timed([*_linli(), "index"], env)
        (corpus / "新增文章.md").write_text(paths[2].read_text(encoding="utf-8"),
                                         encoding="utf-8")
        row["index_one_added"] = _timed([*_linli(), "index"], env)
        paths[3].unlink()
        row["index_one_removed"] = _timed([*_linli(), "index"], env)
    return row


def _median(rows: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for row in rows:
        value: Any = row
        for key in keys:
            value = value[key]
        values.append(float(value))
    return statistics.median(values)


def run_archive_bench(data: Path, n_files: int, runs: int, n_queries: int,
                      as_json: bool) -> int:
    """Measure `runs` fresh archives of `n_files` files; print the medians (or all as JSON)."""
    articles, queries = read_cmrc(data)
    questions = [q["question"] for q in queries][:n_queries]
    machine = (f"{platform.processor() or platform.machine()}, {cpu_count()} cores, "
               f"Python {platform.python_version()}")
    rows = [archive_run(articles, questions, n_files) for _ in range(runs)]
    if as_json:
        print(json.dumps({"machine": machine, "runs": rows}, ensure_ascii=False, indent=1))
        return 0
    m = lambda *keys: _median(rows, *keys)  # noqa: E731
    lines = [f"machine: {machine}",
             f"archive of {n_files} article files, medians of {runs} run(s), as processes:",
             f"  linli index from nothing            {m('build', 's'):7.2f} s",
             f"  start to first answer (linli search) {m('start_to_first_answer', 's'):6.2f} s"
             f" (jieba's dictionary {m('searching', 'jieba_dictionary_s'):.2f} s of it)",
             f"  linli index, nothing changed        {m('index_unchanged', 's'):7.2f} s",
             f"  /reload after one changed file      "
             f"{m('searching', 'reload_one_changed_s'):7.2f} s (in-process, new index serving;"
             f" saved after {m('searching', 'reload_saved_s'):.2f} s)",
             f"  linli index after one changed file  {m('index_one_changed', 's'):7.2f} s",
             f"  linli index after one added file    {m('index_one_added', 's'):7.2f} s",
             f"  linli index after one removed file  {m('index_one_removed', 's'):7.2f} s",
             f"  searching process peak memory       {m('searching', 'max_rss_mb'):7.0f} MB",
             f"  linli search process peak memory    "
             f"{m('start_to_first_answer', 'max_rss_mb'):7.0f} MB",
             f"  linli index (build) peak memory     {m('build', 'max_rss_mb'):7.0f} MB",
             f"  search p50 / p95                    {m('searching', 'search', 'p50_ms'):7.2f} / "
             f"{m('searching', 'search', 'p95_ms'):.2f} ms ({len(questions)} questions)"]
    print("\n".join(lines))
    return 0
