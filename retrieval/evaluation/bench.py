"""`linli bench`: quality and speed on the public CMRC 2018 set, side by side with references.

Quality: every CMRC 2018 question against the contexts it was written on
(recall@1, recall@5, MRR@10), linli against plain rank-bm25 over `jieba.lcut`.
Speed: contexts split into sentence chunks and replicated under new ids up to
each size; index build, load, memory, and query latency (tokenising included),
with bm25s on the same tokens as a reference when it is installed.
May import corpus, rank-bm25, bm25s, jieba and all of retrieval/ but the CLI.
"""

import functools
import gc
import json
import logging
import multiprocessing
import platform
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jieba
import numpy as np

from corpus.chunk import chunk_corpus
from corpus.models import Article
from corpus.paths import BUNDLED_CORPUS
from retrieval.bm25 import BM25Params
from retrieval.collector import freeze_loaded_objects
from retrieval.evaluation.calibrate import collect, rates, split_halves
from retrieval.evaluation.cmrc import read_cmrc
from retrieval.evaluation.timing import cpu_count, reference_loop_s, time_queries
from retrieval.index import Index, build_index, chunk_key, refresh_index
from retrieval.search import Gate, Searcher, Tuning
from retrieval.text.tokenize import Tokenizer

logger = logging.getLogger(__name__)


def _ranking(ranked: Sequence[str], gold: str) -> int | None:
    return next((i for i, doc in enumerate(ranked[:10], start=1) if doc == gold), None)


def _figures(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {"recall@1": sum(r == 1 for r in ranks) / n,
            "recall@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr@10": sum(1 / r for r in ranks if r) / n}


def quality(articles: list[Article], queries: list[dict[str, str]],
            params: BM25Params | None = None) -> dict[str, object]:
    """Rank each question's gold context: linli vs plain rank-bm25 over jieba.lcut."""
    import rank_bm25

    index = build_index(articles, params=params)
    result: dict[str, object] = {"questions": len(queries),
                                 "linli": _rank_all(Searcher(index), queries)}
    ablations: dict[str, object] = {}
    for name, tuning in ABLATIONS.items():
        ablations[name] = _rank_all(Searcher(index, tuning=tuning), queries)
    ablations["without passage windows"] = _rank_all(
        Searcher(build_index(articles, params=params, windows=False)), queries)
    result["ablations"] = ablations
    ids = [a.id for a in articles]
    for name, cut in (("rank_bm25_jieba_lcut", jieba.lcut), ("bm25_lcut_no_punct_stop", _plain)):
        plain = rank_bm25.BM25Okapi([cut(a.body) for a in articles])
        baseline = []
        for q in queries:
            scores = plain.get_scores(cut(q["question"]))
            baseline.append(_ranking([ids[i] for i in np.argsort(-scores)[:10]], q["gold_id"]))
        result[name] = _figures(baseline)
    return result


# Each refinement switched off alone, to measure what it earns on CMRC 2018.
ABLATIONS = {
    "sub-words at weight 0.25": Tuning(subword_weight=0.25),
    "sub-words at full weight": Tuning(subword_weight=1.0),
    "without synonyms": Tuning(synonyms=False),
    "without typo repair": Tuning(typo_repair=False),
    "without bigram fallback": Tuning(bigram_fallback=False),
    "without ignoring Latin slips": Tuning(ignore_latin_slips=False),
    "without the character-pair field": Tuning(pairs=False),
}


def _rank_all(searcher: Searcher, queries: list[dict[str, str]]) -> dict[str, float]:
    return _figures([_ranking([h.article_id for h in searcher.rank(q["question"], k=10)],
                              q["gold_id"]) for q in queries])


# The plain baseline: jieba's precise cut, punctuation and a short stopword list dropped.
_SHORT_STOPWORDS = frozenset([
    "的", "了", "是", "在", "和", "与", "吗", "呢", "什么", "哪", "哪里", "哪个", "哪些", "谁",
    "多少", "几", "怎么", "如何", "为什么", "有", "被", "把", "个", "一", "这", "那", "也", "都",
    "就"])


def _plain(text: str) -> list[str]:
    return [w for w in jieba.lcut(text) if re.search(r"\w", w) and w not in _SHORT_STOPWORDS]


def split_half(data: Path) -> dict[str, object]:
    """The shipped answer gate on CMRC 2018 split in halves (see evaluation/calibrate.py)."""
    articles, queries = read_cmrc(data)
    gate = Gate.load()
    samples = [s for half in split_halves(articles) for s in collect(articles, queries, half)]
    return {"threshold": gate.threshold, **rates(gate, samples, gate.threshold)}


def replicate(articles: list[Article], chunks_wanted: int) -> list[Article]:
    """Copy the articles under new ids until they make `chunks_wanted` chunks."""
    per_article = [len(chunk_corpus([a])) for a in articles]
    copies: list[Article] = []
    total, round_ = 0, 0
    while total < chunks_wanted:
        for article, n in zip(articles, per_article, strict=True):
            if total >= chunks_wanted:
                break
            copies.append(article.model_copy(update={"id": f"{article.id}~{round_}"}))
            total += n
        round_ += 1
    return copies


def speed(articles: list[Article], size: int, questions: list[str],
          with_bm25s: bool, params: BM25Params | None = None) -> dict[str, object]:
    """Measure build time here, then load, memory and latency in a fresh process.

    The fresh process starts as the bot does: it loads the saved index, with no
    second copy and no freed build on its heap.
    """
    copies = replicate(articles, size)
    started = time.perf_counter()
    index = build_index(copies, params=params)
    row: dict[str, object] = {"chunks": len(index.chunks),
                              "unique_chunk_texts": len(index.tokens),
                              "build_s": time.perf_counter() - started}
    with tempfile.TemporaryDirectory() as folder:
        index.save(Path(folder))
        del index, copies
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            row.update(pool.apply(measure_saved, (folder, questions, with_bm25s)))
    return row


def measure_saved(folder: str, questions: list[str], with_bm25s: bool) -> dict[str, object]:
    """In a fresh process: load the saved index, time questions, then bm25s on its tokens."""
    jieba.setLogLevel(logging.WARNING)
    started = time.perf_counter()
    Tokenizer()  # jieba's own dictionary: loaded once per process, before any index
    row: dict[str, object] = {"jieba_dictionary_s": time.perf_counter() - started}
    started = time.perf_counter()
    searcher = Searcher(Index.load(Path(folder)))
    row["load_s"] = time.perf_counter() - started
    freeze_loaded_objects()
    row["linli"] = time_queries(functools.partial(searcher.search, k=3), questions)
    index = searcher.index
    if with_bm25s:
        index.load_token_cache(Path(folder))
        row["bm25s"] = _bm25s_reference(index, questions)
    del searcher, index
    gc.unfreeze()
    gc.collect()
    tracemalloc.start()
    Searcher(Index.load(Path(folder)))
    row["index_memory_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return row


def _bm25s_reference(index: Index, questions: list[str]) -> dict[str, object]:
    """bm25s on the very same chunk tokens and query tokens."""
    try:
        import bm25s
    except ImportError:
        return {"skipped": "bm25s is not installed (pip install -e '.[bench]')"}
    documents = [index.tokens[key] for key in _chunk_keys(index)]
    started = time.perf_counter()
    retriever = bm25s.BM25(k1=index.params.k1, b=index.params.b)
    retriever.index(documents, show_progress=False)
    build_s = time.perf_counter() - started
    vocabulary = retriever.vocab_dict
    tokenizer = Tokenizer(index.local_names)

    def run(question: str) -> object:
        tokens = [t for t in tokenizer.tokenize(question) if t in vocabulary]
        if not tokens:
            return None
        return retriever.retrieve([tokens], k=3, show_progress=False, n_threads=1)

    return {"build_s": build_s, **time_queries(run, questions)}


def _chunk_keys(index: Index) -> list[str]:
    return [chunk_key(chunk, index.fingerprint) for chunk in index.chunks]


def sample_rebuild(corpus_dir: Path, rounds: int = 5) -> dict[str, float]:
    """Time a refresh after one article of the sample corpus changed, as /reload does it."""
    import shutil

    timings = []
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        shutil.copytree(corpus_dir, corpus)
        refresh_index(corpus, Path(folder) / "index")
        target = sorted(corpus.glob("*.md"))[0]
        original = target.read_text(encoding="utf-8")
        for i in range(rounds):
            target.write_text(original + f"\n第{i}次修改。\n", encoding="utf-8")
            started = time.perf_counter()
            _, report = refresh_index(corpus, Path(folder) / "index")
            timings.append(time.perf_counter() - started)
            if report.changed != [target.stem]:
                raise RuntimeError(f"expected one changed article, got {report.changed}")
    return {"median_s": statistics.median(timings), "max_s": max(timings)}


def run_bench(data: Path, sizes: list[int], n_queries: int, *, with_bm25s: bool,
              as_json: bool, params: BM25Params | None = None) -> int:
    """Run the whole benchmark and print its table (or JSON)."""
    articles, queries = read_cmrc(data)
    machine = (f"{platform.processor() or platform.machine()}, {cpu_count()} cores, "
               f"Python {platform.python_version()}")
    print(f"machine: {machine}", file=sys.stderr)
    result: dict[str, Any] = {"machine": machine, "params": str(params),
                              "reference_loop_s_before": reference_loop_s(),
                                 "quality": quality(articles, queries, params),
                              "split_half": split_half(data)}
    questions = [q["question"] for q in queries][:n_queries]
    rows = []
    for size in sizes:
        logger.info("measuring %d chunks", size)
        rows.append(speed(articles, size, questions, with_bm25s, params))
    result["speed"] = rows
    result["reference_loop_s_after"] = reference_loop_s()
    if sizes:
        result["sample_rebuild"] = sample_rebuild(BUNDLED_CORPUS)
    print(json.dumps(result, ensure_ascii=False, indent=1) if as_json else _table(result))
    return 0


def _table(result: dict[str, Any]) -> str:
    q, rows = result["quality"], result["speed"]
    lines = [f"BM25: {result['params']}",
             f"CMRC 2018 quality ({q['questions']} questions, gold context in the ranking):",
             "  system                     recall@1  recall@5  MRR@10"]
    for name in ("linli", "rank_bm25_jieba_lcut", "bm25_lcut_no_punct_stop"):
        f = q[name]
        lines.append(f"  {name:26} {f['recall@1']:8.3f}  {f['recall@5']:8.3f}  {f['mrr@10']:6.3f}")
    lines.append("  each refinement's effect (linli with one thing changed):")
    for name, f in q["ablations"].items():
        lines.append(f"  {name:32} {f['recall@1']:8.3f}  {f['recall@5']:8.3f}  "
                     f"{f['mrr@10']:6.3f}")
    half = result["split_half"]
    lines.append(f"CMRC 2018 split-half, answer threshold {half['threshold']}: present questions "
                 f"answered right {half['present_right']:.1%} (wrong {half['present_wrong']:.1%}),"
                 f" absent questions answered {half['absent_answered']:.1%}")
    if rows:
        lines += ["", "speed (median and p95 per query, tokenising included):",
                  "  chunks   build_s  load_s  memory_MB  linli p50/p95 ms   bm25s p50/p95 ms  "
                  "bm25s build_s"]
    for row in rows:
        ours = row["linli"]
        ref = row.get("bm25s", {})
        ref_text = (f"{ref['p50_ms']:7.2f}/{ref['p95_ms']:7.2f}   {ref['build_s']:8.2f}"
                    if "p50_ms" in ref else "  (not measured)")
        lines.append(f"  {row['chunks']:7d}  {row['build_s']:7.2f}  {row['load_s']:6.2f}  "
                     f"{row['index_memory_mb']:9.1f}  {ours['p50_ms']:6.2f}/{ours['p95_ms']:6.2f}"
                     f"     {ref_text}")
    if rows:
        lines.append(f"  (load_s is the saved index; jieba's own dictionary adds "
                     f"{rows[-1].get('jieba_dictionary_s', 0):.2f} s once per process)")
        before, after = result["reference_loop_s_before"], result["reference_loop_s_after"]
        lines.append(f"  reference loop, sum(range(10**7)): {before:.3f} s before, {after:.3f} s "
                     "after (lower: a faster machine at the time)")
    if "sample_rebuild" in result:
        rebuild = result["sample_rebuild"]
        lines += ["", f"rebuild after one article changed (sample corpus, in-process, as "
                  f"/reload): median {rebuild['median_s']:.2f} s, max {rebuild['max_s']:.2f} s"]
    return "\n".join(lines)
