"""The corpus self-test: probes from the corpus's own sentences, its threshold, its cache."""

import json
import random
from pathlib import Path

import pytest

from bot.cli import main
from bot.live_index import LiveIndex
from corpus.models import Article, Section
from retrieval.index import Index, build_index, index_dir_for
from retrieval.search import Gate, Searcher, selftest
from retrieval.search.selftest import (
    MIN_ARTICLES,
    SelfTest,
    cache_file,
    corpus_gate,
    corpus_threshold,
    probes,
    self_test,
)

_CHARS = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同"
          "工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起"
          "小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平"
          "形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意")


def distinct_corpus(count: int = 60) -> list[Article]:
    """Articles whose sentences share no rare word: an absent one has no stand-in."""
    chars = list(_CHARS)
    random.Random(7).shuffle(chars)
    return [Article(id=f"a{i}", title=f"第{i}号通知", sections=(Section(paragraphs=(
        f"{''.join(chars[i * 3:(i + 1) * 3])}服务站由社区志愿者负责日常管理和环境维护工作。",)),))
        for i in range(count)]


def twin_corpus(count: int = 60) -> list[Article]:
    """Articles in pairs that differ in one word (甲/乙号楼): each one's twin stands in."""
    chars = list(_CHARS)
    random.Random(7).shuffle(chars)
    return [Article(id=f"a{i}", title=f"第{i}号通知", sections=(Section(paragraphs=(
        f"{'甲乙'[i % 2]}号楼{''.join(chars[(i // 2) * 3:(i // 2 + 1) * 3])}服务站由社区志愿者"
        "负责日常管理和环境维护工作。",)),)) for i in range(count)]


def test_probes_are_the_corpus_own_sentences_and_the_same_each_time() -> None:
    index = build_index(distinct_corpus())
    chosen = probes(index)
    assert chosen == probes(build_index(distinct_corpus()))
    assert len(chosen) == 60 and len({p.article for p in chosen}) == 60
    for probe in chosen:  # nothing invented: each probe is in its own article's text
        assert probe.text in index.searchable[int(
            next(i for i, a in enumerate(index.chunks.article) if a == probe.article))]


def test_a_corpus_whose_absent_articles_have_stand_ins_raises_its_threshold() -> None:
    gate = Gate.load()
    assert gate.selftest_target is not None
    twins = self_test(Searcher(build_index(twin_corpus()), gate=gate), gate)
    distinct = self_test(Searcher(build_index(distinct_corpus()), gate=gate), gate)
    # Removed, an article of the twins is "answered" by its twin; a distinct one by nothing.
    assert twins.absent_answered(gate, gate.threshold) > 0.5
    assert distinct.absent_answered(gate, gate.threshold) < 0.2
    assert twins.present_right(gate.threshold) > 0.9 and distinct.present_right(
        gate.threshold) > 0.9
    assert (corpus_threshold(gate, twins, gate.selftest_target)
            > corpus_threshold(gate, distinct, gate.selftest_target) >= gate.threshold)


def test_a_sentence_printed_in_two_articles_is_not_a_probe_of_an_absent_one() -> None:
    gate = Gate.load()
    same = [Article(id=f"a{i}", title=f"第{i}号", sections=(Section(paragraphs=(
        "本社区服务站由社区志愿者负责日常管理和环境维护工作。",)),)) for i in range(MIN_ARTICLES)]
    assert self_test(Searcher(build_index(same), gate=gate), gate).absent == []


def test_a_sentence_another_article_restates_word_for_word_is_not_a_probe() -> None:
    # Each pair says the same words in another order: with one removed, the other holds
    # every word of its probe, so that probe is not one of an absent article.
    chars = list(_CHARS)
    random.Random(7).shuffle(chars)
    articles = []
    for i in range(MIN_ARTICLES + 10):
        name = "".join(chars[(i // 2) * 3:(i // 2 + 1) * 3])
        text = (f"{name}服务站由社区志愿者负责日常管理。" if i % 2 else
                f"社区志愿者负责日常管理{name}服务站。")
        articles.append(Article(id=f"a{i}", title=f"第{i}号", sections=(Section(
            paragraphs=(text,)),)))
    gate = Gate.load()
    test = self_test(Searcher(build_index(articles), gate=gate), gate)
    # (a name of three random characters is sometimes cut differently in the two orders)
    assert len(test.absent) < len(articles) // 10


def test_the_threshold_is_the_lowest_keeping_absent_probes_at_the_target() -> None:
    gate = Gate((0.0,) * len(Gate.load().weights), 0.0, 0.60, 0.10)
    test = SelfTest(present=[0.9] * 10, absent=[0.95, 0.85, 0.75, 0.65, 0.1, 0.1, 0.1, 0.1,
                                                0.1, 0.1])
    assert test.absent_answered(gate, 0.60) == pytest.approx(0.4)
    assert corpus_threshold(gate, test, 0.10) == 0.86  # 0.85 still answers two of ten
    assert corpus_threshold(gate, test, 0.40) == 0.60  # never below the shipped one
    assert corpus_threshold(gate, SelfTest([], [0.999] * 4), 0.0) == 0.99


def test_corpus_gate_is_cached_beside_the_index_and_skips_small_corpora(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate.load()
    runs: list[int] = []
    real = selftest.self_test

    def counted(searcher: Searcher, used: Gate, count: int = selftest.PROBES) -> SelfTest:
        runs.append(1)
        return real(searcher, used, count)

    monkeypatch.setattr(selftest, "self_test", counted)
    folder = tmp_path / "index"
    build_index(twin_corpus()).save(folder)
    searcher = Searcher(Index.load(folder), gate=gate)
    first = corpus_gate(searcher)  # cached beside the folder it was loaded from
    assert first.threshold > gate.threshold and runs == [1]
    saved = json.loads(cache_file(folder).read_text(encoding="utf-8"))
    assert saved["threshold"] == first.threshold
    Index.load(folder)  # the saved index is still whole: nothing was written into it
    assert corpus_gate(Searcher(Index.load(folder), gate=gate)) == first
    assert runs == [1]  # read from the cache
    cache_file(folder).write_text("{broken", encoding="utf-8")
    assert corpus_gate(searcher, folder) == first and runs == [1, 1]  # recomputed
    small = Searcher(build_index(twin_corpus(MIN_ARTICLES - 2)), gate=gate)
    assert corpus_gate(small, tmp_path / "small") is gate and runs == [1, 1]
    untargeted = Gate(gate.weights, gate.bias, gate.threshold)  # a gate file without one
    assert corpus_gate(Searcher(build_index(twin_corpus()), gate=untargeted),
                       tmp_path / "old") is untargeted


def test_the_gate_file_keeps_the_selftest_target(tmp_path: Path) -> None:
    gate = Gate((0.5,) * len(Gate.load().weights), -1.0, 0.7, 0.044)
    path = tmp_path / "gate.json"
    path.write_text(gate.to_json(), encoding="utf-8")
    assert Gate.load(path) == gate
    assert gate.with_threshold(0.8).selftest_target == 0.044
    assert Gate.load().selftest_target == json.loads(
        Path(__file__).parent.parent.joinpath("retrieval", "data", "gate.json").read_text(
            encoding="utf-8"))["selftest_target"]


def test_the_bot_takes_its_corpus_threshold_in_the_background_unless_one_is_set(
        tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for article in twin_corpus():
        (corpus / f"{article.id}.md").write_text(
            f"---\ntitle: {article.title}\n---\n\n{article.sections[0].paragraphs[0]}\n",
            encoding="utf-8")
    live = LiveIndex(corpus, tmp_path / "data")
    live.load()
    assert live.selftest_thread is not None
    live.selftest_thread.join()
    shipped = Gate.load()
    assert live.current().gate.threshold > shipped.threshold
    assert cache_file(live.index_dir).is_file()
    fixed = LiveIndex(corpus, tmp_path / "data2", answer_threshold=0.5)
    fixed.load()
    assert fixed.selftest_thread is None and fixed.current().gate.threshold == 0.5


def test_linli_search_reads_the_corpus_threshold_from_the_cache_never_runs_the_test(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "twins"
    corpus.mkdir()
    for article in twin_corpus():
        (corpus / f"{article.id}.md").write_text(
            f"---\ntitle: {article.title}\n---\n\n{article.sections[0].paragraphs[0]}\n",
            encoding="utf-8")
    question = twin_corpus()[0].sections[0].paragraphs[0][:16]

    def answered(*options: str) -> bool:
        assert main(["search", question, "--json", "--corpus", str(corpus), *options]) == 0
        out, err = capsys.readouterr()
        assert "self-test:" not in err  # a one-off search never spends seconds on it
        return bool(json.loads(out)["answered"])

    index_dir = index_dir_for(tmp_path / "data", corpus)
    assert answered() and not cache_file(index_dir).exists()  # no cache: the shipped gate
    corpus_gate(Searcher(Index.load(index_dir), gate=Gate.load()), index_dir)  # as the bot
    capsys.readouterr()
    cached = json.loads(cache_file(index_dir).read_text(encoding="utf-8"))
    cache_file(index_dir).write_text(json.dumps({**cached, "threshold": 0.999}),
                                     encoding="utf-8")  # a corpus that trusts nothing
    assert not answered()
    assert answered("--no-selftest")
    monkeypatch.setenv("LINLI_ANSWER_THRESHOLD", "0.2")  # set by the operator: kept
    assert answered()
