"""The incremental paths give exactly what a full rebuild gives."""

import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.bm25 import Postings
from retrieval.index import (
    Index,
    build_index,
    merge,
    refresh_index,
    window_documents,
    window_postings,
)
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


EDITS = st.lists(st.tuples(st.sampled_from(["add", "change", "remove", "optimize"]),
                           st.integers(0, 20), st.lists(WORDS, min_size=1, max_size=8)),
                 min_size=1, max_size=7)
QUESTIONS = ["哪里可以下棋", "老年食堂在哪里", "志愿者怎么报名", "社区医院", "图书馆开放时间"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS, st.sampled_from([2, 3, 10]))
def test_refreshes_after_random_edits_and_merges_score_as_a_full_rebuild(
        edits: list[tuple[str, int, list[str]]], factor: int) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(merge, "MERGE_FACTOR", factor)  # tiered merges after a few edits
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
            elif action == "remove":
                files[pick % len(files)].unlink()
            refreshed, _ = refresh_index(corpus, index_dir, optimize=action == "optimize")
        reloaded = Index.load(index_dir)
        fresh, _ = refresh_index(corpus, Path(folder) / "fresh")
        assert len(fresh.segments) == 1
        for index in (refreshed, reloaded):
            assert_same_index(index, fresh)


def assert_same_index(index: Index, fresh: Index) -> None:
    """Assert two indexes hold the same passages, postings, statistics and scores."""
    assert sorted(index.article_ids) == sorted(fresh.article_ids)
    assert _passages(index) == _passages(fresh)
    assert (index.local_names, list(index.char_df.items())) == (
        fresh.local_names, list(fresh.char_df.items()))  # in the same order: typos read it
    pairs, fresh_pairs = index.pair_counts(), fresh.pair_counts()
    assert (pairs.codes.tolist(), pairs.df.tolist()) == (
        fresh_pairs.codes.tolist(), fresh_pairs.df.tolist())  # segments less their deletions
    assert _live_counts(index) == _live_counts(fresh)
    ours, theirs = index.bm25(), fresh.bm25()
    assert (ours.corpus_size, ours.avgdl) == (theirs.corpus_size, theirs.avgdl)
    # Bit for bit: each term's IDF and each passage's score, by passage.
    assert _weights(index) == _weights(fresh)
    for question, mine, wanted in zip(QUESTIONS, _answers(index), _answers(fresh),
                                      strict=True):
        assert mine == wanted, question


def _passages(index: Index) -> dict[str, tuple[str, str | None, str]]:
    return {c.id: (c.text, c.section, index.searchable[i])
            for i, c in enumerate(index.chunks)}


def _live_counts(index: Index) -> dict[str, Counter[str]]:
    """Each term's passages (by id) and term frequencies, over the live passages."""
    counts: dict[str, Counter[str]] = {}
    for segment in index.segments:
        alive = segment.alive_docs()
        p = segment.postings
        assert p.terms == sorted(p.terms)
        for t, term in enumerate(p.terms):
            docs = p.doc_ids[p.indptr[t]:p.indptr[t + 1]].tolist()
            assert docs == sorted(docs)
            for doc, tf in zip(docs, p.tfs[p.indptr[t]:p.indptr[t + 1]].tolist(), strict=True):
                if alive[doc]:
                    chunk = segment.chunks[doc]
                    counts.setdefault(term, Counter())[chunk.id] = tf
    return counts


def _weights(index: Index) -> dict[str, tuple[float, dict[str, float]]]:
    """Each live term's IDF and every passage's score for it alone, by passage id."""
    bm25, ids = index.bm25(), [c.id for c in index.chunks]
    weights = {}
    for term, t in bm25.term_ids.items():
        if bm25.doc_freq[t]:
            docs, scores = bm25.score({term: 1.0})
            weights[term] = (float(bm25.idf[t]), {ids[d]: s for d, s in
                                                  zip(docs.tolist(), scores.tolist(),
                                                      strict=True)})
    return weights


def _answers(index: Index) -> list[tuple[str, float, list[float], set[str]]]:
    """Each question's outcome, confidence, hit scores and the hits above the last score.

    Passages tied with the last hit may come in another order (the passages are
    numbered in segment order, not in corpus order): those are left out of the set.
    """
    searcher, found = Searcher(index), []
    for question in QUESTIONS:
        answer = searcher.answer(question, k=5)
        scores = [h.score for h in answer.hits]
        found.append((answer.outcome.value, answer.confidence, scores,
                      {h.chunk_id for h in answer.hits if scores and h.score > scores[-1]}))
    return found


def test_build_from_a_previous_index_equals_one_from_nothing() -> None:
    from corpus import load_corpus

    articles = load_corpus(BUNDLED_CORPUS).articles
    first = build_index(articles)
    again = build_index(articles, previous=first)
    assert _as_counts(again.postings) == _as_counts(first.postings)
    assert list(again.searchable) == list(first.searchable)
    assert again.segments[0].tokens == first.segments[0].tokens


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
    assert [str(p) for p in report.problems] == [str(p) for p in full.problems]
    assert any(p.path == "notes.docx" for p in report.problems)
    assert_same_index(refreshed, fresh)


def test_a_build_on_two_processes_equals_one_on_one() -> None:
    from corpus import load_corpus

    articles = load_corpus(BUNDLED_CORPUS).articles
    one = build_index(articles, workers=1)
    two = build_index(articles, workers=2)
    assert (two.local_names, two.names_by_content) == (one.local_names, one.names_by_content)
    assert two.segments[0].tokens == one.segments[0].tokens
    assert list(two.searchable) == list(one.searchable)
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
