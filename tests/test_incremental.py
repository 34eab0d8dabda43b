"""The incremental paths give exactly what a full rebuild gives."""

import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.bm25 import BM25, Postings
from retrieval.index import Index, build_index, refresh_index, window_documents, window_postings
from retrieval.index.splice import splice_array
from retrieval.search import Searcher
from tests.conftest import BUNDLED_CORPUS

WORDS = st.sampled_from(["社区", "食堂", "老年", "下棋", "医院", "图书馆", "志愿者", "报名"])


def _as_counts(postings: Postings) -> dict[str, Counter[int]]:
    counts: dict[str, Counter[int]] = {}
    for t, term in enumerate(postings.terms):
        start, end = postings.indptr[t], postings.indptr[t + 1]
        counts[term] = Counter(dict(zip(postings.doc_ids[start:end].tolist(),
                                        postings.tfs[start:end].tolist(), strict=True)))
        assert list(postings.doc_ids[start:end]) == sorted(postings.doc_ids[start:end])
    return counts


@given(st.lists(st.tuples(st.lists(WORDS, max_size=6), st.booleans()), min_size=1,
                max_size=12))
def test_window_postings_by_arrays_equal_the_counted_windows(
        chunks: list[tuple[list[str], bool]]) -> None:
    documents = [tokens for tokens, _ in chunks]
    joined = [i > 0 and link for i, (_, link) in enumerate(chunks)]

    counted = Postings.build(window_documents(_fake_chunks(joined), documents))
    by_arrays = window_postings(documents, joined)
    assert _as_counts(by_arrays) == _as_counts(counted)
    assert by_arrays.doc_len.tolist() == counted.doc_len.tolist()


def _fake_chunks(joined: list[bool]) -> list[object]:
    """Chunks whose (article, section) pairs continue exactly where `joined` says."""
    from types import SimpleNamespace

    chunks, article = [], 0
    for link in joined:
        article += 0 if link else 1
        chunks.append(SimpleNamespace(article_id=str(article), section=None))
    return chunks


EDITS = st.lists(st.tuples(st.sampled_from(["add", "change", "remove"]),
                           st.integers(0, 20), st.lists(WORDS, min_size=1, max_size=8)),
                 min_size=1, max_size=4)
QUESTIONS = ["哪里可以下棋", "老年食堂在哪里", "志愿者怎么报名", "社区医院", "图书馆开放时间"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_refreshes_after_random_edits_score_as_a_full_rebuild(
        edits: list[tuple[str, int, list[str]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        corpus, index_dir = Path(folder) / "corpus", Path(folder) / "index"
        shutil.copytree(BUNDLED_CORPUS, corpus)
        refresh_index(corpus, index_dir)
        for action, pick, words in edits:
            files = sorted(corpus.glob("*.md"))
            if action == "add" or len(files) < 2:
                (corpus / f"新{pick}.md").write_text(
                    f"---\ntitle: 新文章{pick}\n---\n{'，'.join(words)}。\n", encoding="utf-8")
            elif action == "change":
                target = files[pick % len(files)]
                target.write_text(target.read_text(encoding="utf-8") + "\n" + "".join(words)
                                  + "。\n", encoding="utf-8")
            else:
                files[pick % len(files)].unlink()
            refreshed, _ = refresh_index(corpus, index_dir)
        fresh, _ = refresh_index(corpus, Path(folder) / "fresh")
        assert _scores(Searcher(refreshed)) == _scores(Searcher(fresh))
        assert [(c.id, c.text, c.section) for c in refreshed.chunks] == [
            (c.id, c.text, c.section) for c in fresh.chunks]
        assert list(refreshed.searchable) == list(fresh.searchable)
        assert (refreshed.local_names, list(refreshed.char_df.items())) == (
            fresh.local_names, list(fresh.char_df.items()))  # in the same order: typos read it
        assert _as_counts(refreshed.postings) == _as_counts(fresh.postings)
        assert _weights(refreshed) == _weights(BM25(fresh.postings, fresh.params))
        pairs, fresh_pairs = refreshed.pair_counts(), fresh.pair_counts()
        assert (pairs.codes.tolist(), pairs.df.tolist()) == (
            fresh_pairs.codes.tolist(), fresh_pairs.df.tolist())  # the splice updated them


def _weights(scorer: Index | BM25) -> dict[str, tuple[float, float, dict[int, float]]]:
    """Each term's IDF, largest gain and gain by document (terms may come in another order)."""
    bm25 = scorer.bm25() if isinstance(scorer, Index) else scorer
    arrays, p = bm25.arrays(), bm25.postings
    return {term: (float(arrays["idf"][t]), float(arrays["max_gain"][t]),
                   dict(zip(p.doc_ids[p.indptr[t]:p.indptr[t + 1]].tolist(),
                            arrays["gain"][p.indptr[t]:p.indptr[t + 1]].tolist(), strict=True)))
            for t, term in enumerate(p.terms)}


def _scores(searcher: Searcher) -> list[list[tuple[str, float]]]:
    return [[(h.chunk_id, h.score) for h in searcher.search(q, k=5)]
            for q in QUESTIONS]


def test_build_from_a_previous_index_equals_one_from_nothing() -> None:
    from corpus import load_corpus

    articles = load_corpus(BUNDLED_CORPUS).articles
    first = build_index(articles)
    again = build_index(articles, previous=first)
    assert _as_counts(again.postings) == _as_counts(first.postings)
    assert list(again.searchable) == list(first.searchable)


def test_a_splice_in_nested_folders_keeps_the_order_and_problems_of_a_full_load(
        tmp_path: Path) -> None:
    from tests.helpers.articles import write_article

    corpus = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    write_article(corpus, "a/b.md", title="楼道", body="社区食堂今天开门。")
    write_article(corpus, "a.md", title="下棋", body="老年活动室可以下棋。")
    (corpus / "notes.docx").write_bytes(b"PK")
    refresh_index(corpus, tmp_path / "index")
    write_article(corpus, "a/b.md", title="楼道", body="社区食堂今天不开门，明天开门。")
    write_article(corpus, "a/c.md", title="医院", body="社区医院周末开门。")
    refreshed, report = refresh_index(corpus, tmp_path / "index")
    assert report.spliced and report.changed == ["a/b"] and report.added == ["a/c"]
    fresh, full = refresh_index(corpus, tmp_path / "fresh")
    assert refreshed.article_ids == fresh.article_ids
    assert [c.id for c in refreshed.chunks] == [c.id for c in fresh.chunks]
    assert [str(p) for p in report.problems] == [str(p) for p in full.problems]
    assert any(p.path == "notes.docx" for p in report.problems)
    assert _scores(Searcher(refreshed)) == _scores(Searcher(fresh))


def test_a_build_on_two_processes_equals_one_on_one() -> None:
    from corpus import load_corpus

    articles = load_corpus(BUNDLED_CORPUS).articles
    one = build_index(articles, workers=1)
    two = build_index(articles, workers=2)
    assert (two.local_names, two.names_by_content) == (one.local_names, one.names_by_content)
    assert two.tokens == one.tokens and list(two.searchable) == list(one.searchable)
    assert _as_counts(two.postings) == _as_counts(one.postings)
    assert two.postings.terms == one.postings.terms


def test_a_build_reports_its_last_progress_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus import load_corpus
    from retrieval.index import workers

    monkeypatch.setattr(workers, "BATCH", 1)  # every passage reported, the last one too
    seen: list[tuple[int, int]] = []
    build_index(load_corpus(BUNDLED_CORPUS).articles, workers=1,
                progress=lambda done, total: seen.append((done, total)))
    total = seen[-1][1]
    assert seen == [(done, total) for done in range(1, total + 1)]


@given(st.lists(st.tuples(st.integers(0, 99), st.booleans()), max_size=30),
       st.lists(st.tuples(st.integers(0, 30), st.integers(1000, 1999)), max_size=6))
def test_a_spliced_array_equals_dropping_then_inserting(
        entries: list[tuple[int, bool]], inserts: list[tuple[int, int]]) -> None:
    values = np.asarray([v for v, _ in entries], dtype=np.int32)
    keep = np.asarray([not dropped for _, dropped in entries], dtype=bool)
    at = np.asarray(sorted(min(p, len(values)) for p, _ in inserts), dtype=np.int64)
    inserted = np.asarray([v for _, v in inserts], dtype=np.int32)
    # np.insert on the kept entries, at the kept position of each old position.
    expected = np.insert(values[keep], np.cumsum(np.r_[0, keep])[at].astype(np.int64),
                         inserted)
    spliced = splice_array(values, np.flatnonzero(~keep), at, inserted)
    assert spliced.tolist() == expected.tolist()
