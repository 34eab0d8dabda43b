"""The character-pair field: its counts, its scores, and how it reorders the word field's."""

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.models import Article, Section
from retrieval.index import Index, build_index
from retrieval.search import Searcher, Tuning
from retrieval.text.pairs import PairCounts, length_norms, pairs_of

TEXTS = st.lists(st.text(alphabet="社区食堂理发，。 a7", max_size=30), max_size=12)


def _article(ident: str, text: str) -> Article:
    return Article(id=ident, title=f"答复{ident}", sections=(Section(paragraphs=(text,)),))


def _as_dict(counts: PairCounts) -> dict[str, int]:
    return {chr(int(c) >> 21) + chr(int(c) & 0x1FFFFF): int(d)
            for c, d in zip(counts.codes, counts.df, strict=True)}


def test_pairs_stay_inside_runs_of_letters_and_digits() -> None:
    assert pairs_of("A7县，黄花镇 ab_c") == ["A7", "7县", "黄花", "花镇", "ab"]


@given(TEXTS)
def test_pair_counts_are_the_passages_holding_each_pair(texts: list[str]) -> None:
    expected: dict[str, int] = {}
    for text in texts:
        for pair in set(pairs_of(text)):
            expected[pair] = expected.get(pair, 0) + 1
    counts = PairCounts.from_texts(texts)
    assert _as_dict(counts) == expected
    assert counts.lookup(["社区", "无有"]) == [expected.get("社区", 0), 0]


@settings(max_examples=30)
@given(TEXTS, st.data())
def test_updated_counts_equal_a_count_from_scratch(texts: list[str], data: st.DataObject) -> None:
    removed = data.draw(st.lists(st.sampled_from(texts), unique=True) if texts else st.just([]))
    added = data.draw(TEXTS)
    kept = list(texts)
    for text in removed:
        kept.remove(text)
    updated = PairCounts.from_texts(texts).updated(removed, added)
    assert _as_dict(updated) == _as_dict(PairCounts.from_texts(kept + added))


def test_saved_pair_counts_load_as_they_were(tmp_path: Path) -> None:
    counts = PairCounts.from_texts(["社区食堂", "理发室，社区"])
    counts.save(tmp_path)
    assert _as_dict(PairCounts.load(tmp_path)) == _as_dict(counts)


def test_the_pair_field_scores_as_bm25_when_the_pairs_are_the_words() -> None:
    # 电梯 and 维修 are both a word and the only pairs of the question: both fields must
    # give each window the same share of its most possible score.
    index = build_index([_article("a", "电梯维修，电梯年检。"), _article("b", "维修道路。"),
                         _article("c", "小区绿化。")], workers=1)
    searcher = Searcher(index, tuning=Tuning(synonyms=False))
    parsed = searcher.reader.parse("电梯 维修")
    assert set(parsed.query) == {"电梯", "维修"}
    docs, scores = searcher.bm25.top(parsed.query, 3, above_baseline=True)
    assert searcher.pairs is not None
    query = searcher.pairs.query([(parsed.text, 1.0)])
    texts = [index.searchable[int(d)] for d in docs]
    windows = np.asarray([[-1, i, -1] for i in range(len(docs))], dtype=np.int64)
    norms = length_norms(searcher.bm25.postings.doc_len, docs, index.params.b,
                         searcher.bm25.avgdl)
    shares = searcher.pairs.scores(query, texts, windows, norms)
    assert np.allclose(shares, scores / searcher.bm25.max_score(parsed.query), atol=1e-6)


def _reply_index() -> Index:
    return build_index([
        _article("a", "您好！岳银新苑小区东门外的路灯已经修好，请您放心。"),
        _article("b", "您好！小区路灯维修由物业负责，小区路灯坏了请联系物业，小区路灯每月巡查。"),
        _article("c", "您好！看到居民欣喜的笑容，我们很高兴。")], workers=1)


def test_the_pair_field_reorders_the_word_fields_candidates() -> None:
    # 岳银欣苑 is no word of the index (欣 is in it, so no typo repair); the words alone
    # put the reply naming 岳银 first, the pairs (路灯 three times, 坏了 as typed) the other.
    index = _reply_index()
    question = "岳银欣苑路灯坏了"
    words_alone = Searcher(index, tuning=Tuning(pairs=False)).rank(question)
    assert words_alone[0].article_id == "a"
    assert Searcher(index).rank(question)[0].article_id == "b"


def test_fused_scores_stay_within_the_word_fields_maximum() -> None:
    searcher = Searcher(_reply_index())
    question = "岳银欣苑路灯坏了"
    scores = [h.score for h in searcher.rank(question)]
    maximum = searcher.bm25.max_score(searcher.reader.parse(question).query)
    assert scores == sorted(scores, reverse=True)
    assert 0 < scores[0] <= maximum  # above BM25's baseline, as the gate's features read them
