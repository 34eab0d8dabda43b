"""The corpus's own self-test: how often the gate answers a question whose article is gone.

A probe is a stretch of one of the corpus's own sentences, asked twice: with its article
in the index (it should be answered with that article) and with that article's passages
removed from the ranking (it must not be answered). No text is invented: every probe is a
corpus sentence as written. The confidences of the absent probes tell how lax the shipped
gate is on this corpus; `corpus_gate` raises the threshold until the absent probes are
answered no more often than they are on the corpus the gate was fitted on. Deterministic
(probes are chosen by hashes of the articles' ids) and cached beside the saved index.
May import numpy, `retrieval.index` and the search package's gate, highlight and searcher.
"""

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from retrieval.index import Index
from retrieval.search.gate import Features, Gate
from retrieval.search.highlight import split_normalised
from retrieval.search.searcher import Searcher

logger = logging.getLogger(__name__)

SELFTEST_FORMAT = 2  # 2: probes another article holds word for word are skipped
PROBES = 300  # 300 probes: the absent share's standard error near 5% is about 1.3 points
# Below this many articles no self-test runs: the shipped gate already saw corpora of four
# (CMRC's small corpora), and a probe's article is too large a part of a small corpus.
MIN_ARTICLES = 50
# Probe length: the median question is 18 characters on the messages set, 24 on the
# policy set and 17 on CMRC; a probe is a sentence's first PROBE_CHARS characters.
PROBE_CHARS = 22
MIN_SENTENCE_CHARS = 12  # shorter sentences are headings and sign-offs, not statements
# An absent probe whose best passage elsewhere holds every one of its words is said there
# too (a notice restating another's sentence): not absent, like a sentence printed twice.
WHOLE = 0.999
CACHE_SUFFIX = ".selftest.json"  # beside the index folder: the folder holds only its files


def cache_file(index_dir: Path) -> Path:
    """Where the self-test of the index saved in `index_dir` is cached."""
    return index_dir.with_name(index_dir.name + CACHE_SUFFIX)


@dataclass(frozen=True)
class Probe:
    """One probe: the position of the article it is taken from, and its text."""

    article: int
    text: str


@dataclass(frozen=True)
class SelfTest:
    """The confidences the gate gives the probes (0 where the floors refuse them)."""

    present: list[float]  # with the article in, 0 unless its own article comes first
    absent: list[float]  # with the article's passages removed from the ranking

    def absent_answered(self, gate: Gate, threshold: float) -> float:
        """The share of absent probes the gate answers at `threshold`."""
        return sum(c >= threshold for c in self.absent) / max(len(self.absent), 1)

    def present_right(self, threshold: float) -> float:
        """The share of present probes answered with their own article at `threshold`."""
        return sum(c >= threshold for c in self.present) / max(len(self.present), 1)


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16)


def probes(index: Index, count: int = PROBES) -> list[Probe]:
    """Choose up to `count` probes, one per article, by hashes of the articles' ids."""
    ids = index.article_ids
    article_of = np.asarray(index.chunks.article)
    found: list[Probe] = []
    for position in sorted(range(len(ids)), key=lambda i: _hash(ids[i])):
        chunks = np.flatnonzero(article_of == position)
        if not len(chunks):
            continue
        chunk = int(chunks[_hash(ids[position] + "\0chunk") % len(chunks)])
        _, normalised = split_normalised(index.chunks.text(chunk), index.searchable[chunk])
        usable = [s for s in normalised if len(s.strip()) >= MIN_SENTENCE_CHARS]
        if usable:
            sentence = usable[_hash(ids[position] + "\0sentence") % len(usable)].strip()
            found.append(Probe(position, sentence[:PROBE_CHARS]))
        if len(found) == count:
            break
    return found


def self_test(searcher: Searcher, gate: Gate, count: int = PROBES) -> SelfTest:
    """Ask each probe with its article in and removed; keep what the gate says of each."""
    present, absent = [], []
    for probe in probes(searcher.index, count):
        gone = searcher.features(probe.text, without=probe.article)
        if any(probe.text in text for text in gone.candidates) or (
                gone.features is not None and gone.features.coverage >= WHOLE):
            continue  # another article says it too (as written, or every word): not absent
        here = searcher.features(probe.text)
        present.append(_confidence(gate, here.features) if here.article == probe.article
                       else 0.0)
        absent.append(_confidence(gate, gone.features))
    return SelfTest(present, absent)


def _confidence(gate: Gate, features: Features | None) -> float:
    if features is None or not gate.answers(features, 0.0):
        return 0.0
    return gate.confidence(features)


def corpus_threshold(gate: Gate, test: SelfTest, target: float) -> float:
    """The lowest threshold, not below the gate's, answering at most `target` of absent probes."""
    for step in range(round(gate.threshold * 100), 100):
        if test.absent_answered(gate, step / 100) <= target:
            return step / 100
    return 0.99


def _code_digest() -> str:
    """Hash the searching code (search/, text/, bm25.py): a change to it re-runs the test."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted([*root.joinpath("search").glob("*.py"), *root.joinpath("text").glob("*.py"),
                        root / "bm25.py"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(index: Index, gate: Gate) -> str:
    """What the cached result depends on: the articles, the dictionaries, the gate, the code."""
    return hashlib.sha256(json.dumps([SELFTEST_FORMAT, sorted(index.article_hashes.items()),
                                      index.fingerprint, list(gate.weights), gate.bias,
                                      gate.threshold, gate.selftest_target, PROBES,
                                      _code_digest()]).encode()).hexdigest()[:24]


def corpus_gate(searcher: Searcher, index_dir: Path | None = None,
                log: Callable[[str], None] | None = None, run: bool = True) -> Gate:
    """Return the searcher's gate with this corpus's threshold (the self-test's, cached).

    `index_dir`: where the index is saved (default: where it was loaded from); the
    result is cached beside it, never inside (a saved index's folder is checked whole).
    `run`: False reads the cache only (the shipped gate if there is none): a one-off
    `linli search` must not spend seconds on a test the bot runs in the background.
    """
    gate, index = searcher.gate, searcher.index
    if gate.selftest_target is None or len(index.article_ids) < MIN_ARTICLES:
        return gate
    folder = index_dir or index.cache_dir
    cache = cache_file(folder) if folder is not None else None
    key = cache_key(index, gate)
    if cache is not None and cache.is_file():
        try:
            saved = json.loads(cache.read_text(encoding="utf-8"))
            if saved.get("key") == key:
                return gate.with_threshold(float(saved["threshold"]))
        except (ValueError, KeyError, TypeError, OSError):
            pass  # a broken cache is recomputed
    if not run:
        return gate
    test = self_test(searcher, gate)
    threshold = corpus_threshold(gate, test, gate.selftest_target)
    message = (f"self-test: {len(test.absent)} probes; absent answered "
               f"{test.absent_answered(gate, gate.threshold):.1%} at the shipped threshold "
               f"{gate.threshold:.2f}, {test.absent_answered(gate, threshold):.1%} at this "
               f"corpus's {threshold:.2f}")
    (log or logger.info)(message)
    if cache is not None:
        try:
            partial = cache.with_name(f"{cache.name}.{os.getpid()}")
            partial.write_text(json.dumps({"key": key, "threshold": threshold,
                                           "probes": len(test.absent),
                                           **asdict(test)}),
                               encoding="utf-8")
            partial.replace(cache)
        except OSError as err:  # a read-only index folder: the test runs again next time
            logger.warning("self-test not cached: %s", err)
    return gate.with_threshold(threshold)
