import itertools
from collections import Counter

import numpy as np
import pytest
import rank_bm25
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval import bm25
from retrieval.bm25 import BM25, BM25Params, Postings

WORDS = st.sampled_from(["老人", "活动", "社区", "儿童", "血压", "理发", "下棋", "服务", "a", "b"])
CORPORA = st.lists(st.lists(WORDS, min_size=1, max_size=12), min_size=1, max_size=25)
QUERIES = st.lists(st.sampled_from(["老人", "社区", "血压", "不在库里", "a", "b"]), max_size=5)
REFERENCE = {"okapi": rank_bm25.BM25Okapi, "l": rank_bm25.BM25L, "plus": rank_bm25.BM25Plus}


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
@settings(max_examples=150, deadline=None)
@given(corpus=CORPORA, query=QUERIES)
def test_scores_equal_rank_bm25(variant: str, corpus: list[list[str]], query: list[str]) -> None:
    params = BM25Params(variant=variant, k1=1.5,  # type: ignore[arg-type]
                        delta=0.5 if variant == "l" else 1.0)  # rank-bm25's defaults
    ours = BM25(Postings.build(corpus), params)
    reference = REFERENCE[variant](corpus)
    expected = reference.get_scores(query)
    # Per-posting gains are kept in float32 (sums in float64): within 1e-6 of rank-bm25.
    np.testing.assert_allclose(ours.all_scores(Counter(query)), expected, rtol=1e-6, atol=1e-6)


def test_only_documents_holding_a_query_term_are_scored() -> None:
    ours = BM25(Postings.build([["老人", "活动"], ["儿童"], ["老人"]]), BM25Params())
    docs, _ = ours.score({"老人": 1.0})
    assert docs.tolist() == [0, 2]


def test_okapi_gives_a_term_in_half_the_documents_zero_idf() -> None:
    # Why linli does not use Okapi on a small corpus: such a term stops counting.
    ours = BM25(Postings.build([["老人"], ["老人"], ["儿童"], ["血压"]]),
                BM25Params(variant="okapi"))
    assert ours.all_scores({"老人": 1.0}).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_an_empty_index_is_refused() -> None:
    with pytest.raises(ValueError, match="no documents"):
        BM25(Postings.build([]), BM25Params())


@pytest.mark.parametrize("clear_whole", [0, 10**9])
@pytest.mark.parametrize("long_postings", [0, 2, 4096])
@settings(max_examples=150, deadline=None)
@given(corpus=CORPORA, query=QUERIES, earlier=QUERIES, n=st.integers(min_value=1, max_value=30))
def test_top_returns_the_best_documents_in_order(
        long_postings: int, clear_whole: int, corpus: list[list[str]], query: list[str],
        earlier: list[str], n: int) -> None:
    # long_postings=0 makes every term after the first a candidate for skipping;
    # an earlier question must leave nothing behind, however its scores are cleared.
    ours = BM25(Postings.build(corpus), BM25Params())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bm25, "CLEAR_WHOLE", clear_whole)
        ours.top(Counter(earlier), n, long_postings=long_postings)
    docs, scores = ours.top(Counter(query), n, long_postings=long_postings)
    all_docs, all_scores = ours.score(Counter(query))
    assert len(docs) == min(n, len(all_docs))
    assert list(scores) == sorted(scores, reverse=True)
    expected = sorted(all_scores, reverse=True)[: len(docs)]
    # top adds float32 gains in float32: the same scores to 1e-6.
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-6)
    # What search reads: the same documents, their scores less the baseline.
    above_docs, above = ours.top(Counter(query), n, long_postings=long_postings,
                                 above_baseline=True)
    assert above_docs.tolist() == docs.tolist()
    np.testing.assert_allclose(above + ours.baseline(Counter(query)), scores, rtol=1e-6, atol=1e-6)


TEMPLATES = st.lists(st.lists(WORDS, min_size=1, max_size=6), min_size=1, max_size=4)


@pytest.mark.parametrize("long_postings", [0, 4096])
@settings(max_examples=100, deadline=None)
@given(templates=TEMPLATES, picks=st.lists(st.integers(0, 3), min_size=50, max_size=300),
       query=QUERIES, n=st.integers(min_value=1, max_value=5))
def test_top_breaks_ties_by_document_order(long_postings: int, templates: list[list[str]],
                                           picks: list[int], query: list[str], n: int) -> None:
    # Copies of a few documents score exactly alike: of equals the earlier comes first,
    # whichever of them a partial selection happened to visit first.
    corpus = [templates[i % len(templates)] for i in picks]
    ours = BM25(Postings.build(corpus), BM25Params())
    docs = ours.top(Counter(query), n, long_postings=long_postings)[0].tolist()
    for place, doc in enumerate(docs):
        copies = [other for other in range(doc) if corpus[other] == corpus[doc]]
        assert set(copies) <= set(docs[:place]), (doc, copies, docs)  # each before it


def _split(corpus: list[list[str]], cuts: list[int], dead: set[int]) -> tuple[list[bm25.Part],
                                                                              list[list[str]]]:
    """Cut a corpus in parts (at `cuts`), delete documents `dead`; return parts and the live."""
    bounds = sorted({0, len(corpus), *(c % (len(corpus) + 1) for c in cuts)})
    parts, live_docs = [], []
    for start, end in itertools.pairwise(bounds):
        documents = corpus[start:end]
        postings = Postings.build(documents)
        to_global = np.full(len(documents), -1, dtype=np.int32)
        offset = len(live_docs)
        for local, doc in enumerate(range(start, end)):
            if doc not in dead:
                to_global[local] = len(live_docs)
                live_docs.append(corpus[doc])
        live = np.flatnonzero(to_global >= 0).astype(np.int32)
        dead_df = np.zeros(len(postings.terms), dtype=np.int64)
        for t in range(len(postings.terms)):
            docs = postings.doc_ids[postings.indptr[t]:postings.indptr[t + 1]]
            dead_df[t] = int((to_global[docs] < 0).sum())
        parts.append(bm25.Part(postings, offset, to_global, live, dead_df))
    return parts, live_docs


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
@settings(max_examples=150, deadline=None)
@given(corpus=CORPORA, query=QUERIES, cuts=st.lists(st.integers(0, 30), max_size=3),
       dead=st.sets(st.integers(0, 24), max_size=8), n=st.integers(1, 10),
       long_postings=st.sampled_from([0, 4096]))
def test_parts_with_deleted_documents_score_exactly_as_the_live_documents_alone(
        variant: str, corpus: list[list[str]], query: list[str], cuts: list[int],
        dead: set[int], n: int, long_postings: int) -> None:
    params = BM25Params(variant=variant)  # type: ignore[arg-type]
    parts, live_docs = _split(corpus, cuts, dead)
    if not live_docs:
        return
    split, whole = BM25(parts, params), BM25(Postings.build(live_docs), params)
    assert (split.corpus_size, split.avgdl) == (whole.corpus_size, whole.avgdl)
    everyone = np.arange(whole.corpus_size, dtype=np.int64)[::-1]  # candidates, any order
    assert split.doc_lengths(everyone).tolist() == whole.postings.doc_len[everyone].tolist()
    docs, scores = split.score(Counter(query))
    expected_docs, expected = whole.score(Counter(query))
    # Bit for bit: the statistics and each posting's weight do not depend on the parts.
    assert docs.tolist() == expected_docs.tolist() and scores.tolist() == expected.tolist()
    top_docs, top_scores = split.top(Counter(query), n, long_postings=long_postings)
    _, want_scores = whole.top(Counter(query), n, long_postings=long_postings)
    assert top_scores.tolist() == want_scores.tolist()
    # Each document found is scored as alone (of tied ones, either may come first).
    every = whole.top(Counter(query), whole.corpus_size)
    scored = dict(zip(every[0].tolist(), every[1].tolist(), strict=True))
    assert [scored[d] for d in top_docs.tolist()] == top_scores.tolist()
