"""Segments: the streaming build, the merges, and a merge killed half-way."""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import load_corpus
from retrieval.bm25 import BM25Params
from retrieval.index import Index, build_index, merge, refresh_index
from retrieval.index.build import build_into
from retrieval.search import Searcher
from tests.test_incremental import assert_same_index

QUESTION = "哪里可以下棋"


def _edit(corpus_dir: Path, n: int) -> None:
    """Add one small article: one edit, one new segment."""
    (corpus_dir / f"新{n}.md").write_text(
        f"---\ntitle: 新文章{n}\n---\n社区第{n}次开放图书馆。\n", encoding="utf-8")


def _segments(index_dir: Path) -> list[str]:
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    return [entry["name"] for entry in manifest["segments"]]


def test_a_build_in_small_batches_equals_one_in_memory(corpus_dir: Path, tmp_path: Path) -> None:
    articles = load_corpus(corpus_dir).articles
    streamed = build_into(articles, tmp_path / "index", params=BM25Params(), batch=3,
                          workers=1)
    assert len(streamed.segments) == 1  # the batches' segments merged into one
    streamed.save(tmp_path / "index")
    assert _segments(tmp_path / "index") == [streamed.segments[0].name]
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == [
        "manifest.json", streamed.segments[0].name]  # the batches' folders are gone
    in_memory = build_index(articles)
    assert streamed.article_ids == in_memory.article_ids
    assert [c.id for c in streamed.chunks] == [c.id for c in in_memory.chunks]
    assert streamed.segments[0].token_keys == in_memory.segments[0].token_keys
    assert_same_index(Index.load(tmp_path / "index"), in_memory)


def test_small_segments_merge_once_a_tier_is_full(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merge, "MERGE_FACTOR", 3)
    index_dir = tmp_path / "index"
    refresh_index(corpus_dir, index_dir)
    counts = []
    for n in range(5):
        _edit(corpus_dir, n)
        _, report = refresh_index(corpus_dir, index_dir)
        counts.append((len(_segments(index_dir)), report.merged))
    # Each edit adds a segment of one passage; three of those (a tier) merge into one
    # (three passages: still that tier), and so on.
    assert counts == [(2, 0), (3, 0), (2, 3), (3, 0), (2, 3)]
    fresh, _ = refresh_index(corpus_dir, tmp_path / "fresh")
    assert_same_index(Index.load(index_dir), fresh)


def test_optimize_merges_every_segment_and_drops_the_deleted_passages(
        corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    refresh_index(corpus_dir, index_dir)
    _edit(corpus_dir, 1)
    next(corpus_dir.glob("*讲好党课*")).unlink()
    edited, _ = refresh_index(corpus_dir, index_dir)
    assert len(edited.segments) == 2 and len(edited.segments[0].deletions.articles) == 1
    optimized, report = refresh_index(corpus_dir, index_dir, optimize=True)
    assert len(optimized.segments) == 1 and report.merged == 2
    [segment] = optimized.segments
    assert not len(segment.deletions.articles) and segment.size == edited.live_passages()
    assert sorted(p.name for p in index_dir.iterdir()) == [
        "corpus.json", "manifest.json", segment.name]  # the old segments are gone
    fresh, _ = refresh_index(corpus_dir, tmp_path / "fresh")
    assert_same_index(Index.load(index_dir), fresh)
    _, again = refresh_index(corpus_dir, index_dir)  # the corpus manifest still fits
    assert not again.rebuilt and not again.spliced


def test_a_failed_merge_keeps_the_edit_and_the_old_segments_serving(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(merge, "MERGE_FACTOR", 2)
    index_dir = tmp_path / "index"
    refresh_index(corpus_dir, index_dir)
    _edit(corpus_dir, 1)
    refresh_index(corpus_dir, index_dir)
    before = _segments(index_dir)

    def broken(*_: object) -> None:
        raise OSError("No space left on device")

    # The merge dies after writing part of the merged segment (its texts, not postings).
    monkeypatch.setattr(merge, "_merge_postings", broken)
    _edit(corpus_dir, 2)
    with caplog.at_level(logging.ERROR):
        index, report = refresh_index(corpus_dir, index_dir)
    assert "merging segments failed" in caplog.text and report.merged == 0
    assert _segments(index_dir) == [*before, index.segments[-1].name]  # the edit is saved
    monkeypatch.undo()
    loaded = Index.load(index_dir)
    assert Searcher(loaded).search("第2次开放图书馆")[0].article_id == "新2"
    fresh, _ = refresh_index(corpus_dir, tmp_path / "fresh")
    assert_same_index(loaded, fresh)


KILLER = """
import os, signal, sys
from pathlib import Path
from retrieval.index import merge, refresh_index

real = merge._merge_postings

def dying(*args, **kwargs):
    real(*args, **kwargs)  # the merged segment's files are all written: kill before the rename
    os.kill(os.getpid(), signal.SIGKILL)

merge._merge_postings = dying
refresh_index(Path(sys.argv[1]), Path(sys.argv[2]), optimize=True)
"""


def test_a_merge_killed_half_way_leaves_the_old_segments_serving(
        corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    refresh_index(corpus_dir, index_dir)
    _edit(corpus_dir, 1)
    next(corpus_dir.glob("*讲好党课*")).unlink()
    old, _ = refresh_index(corpus_dir, index_dir)
    answer = Searcher(old).answer(QUESTION)
    before = _segments(index_dir)
    done = subprocess.run([sys.executable, "-c", KILLER, str(corpus_dir), str(index_dir)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == -9, done.stderr  # killed in the middle of the merge
    leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers  # the half-made merged segment, named by no manifest
    assert _segments(index_dir) == before
    loaded, report = refresh_index(corpus_dir, index_dir)
    assert not report.rebuilt and loaded.stamp == old.stamp
    assert Searcher(loaded).answer(QUESTION) == answer
    merged, report = refresh_index(corpus_dir, index_dir, optimize=True)
    assert len(merged.segments) == 1 and Searcher(merged).answer(QUESTION) == answer


def test_a_leftover_of_a_killed_save_is_tidied_once_old(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "index"
    refresh_index(corpus_dir, index_dir)
    shutil.copytree(index_dir / "seg-000001", index_dir / ".tmp-seg-000007")
    (index_dir / "seg-000003").mkdir()  # renamed into place, then killed before the manifest
    _edit(corpus_dir, 1)
    refresh_index(corpus_dir, index_dir)
    names = sorted(p.name for p in index_dir.iterdir())
    assert "seg-000003" not in names and ".tmp-seg-000007" in names  # may be a save going on
    assert "seg-000008" in names  # new segments are numbered above every leftover
    old = os.stat(index_dir / ".tmp-seg-000007").st_mtime - 3600
    os.utime(index_dir / ".tmp-seg-000007", (old, old))
    _edit(corpus_dir, 2)
    refresh_index(corpus_dir, index_dir)
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]


def test_changing_the_bm25_parameters_rewrites_only_the_manifest(
        corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    refresh_index(corpus_dir, index_dir)
    segments = _segments(index_dir)
    changed, report = refresh_index(corpus_dir, index_dir, params=BM25Params(k1=1.5))
    assert not report.rebuilt and _segments(index_dir) == segments
    assert Index.load(index_dir).params == BM25Params(k1=1.5)
    fresh, _ = refresh_index(corpus_dir, tmp_path / "fresh", params=BM25Params(k1=1.5))
    assert_same_index(changed, fresh)
