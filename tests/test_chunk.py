from pathlib import Path

from corpus import chunk_article, load_corpus, split_sentences
from corpus.chunk import MAX_CHARS
from tests.conftest import BUNDLED_CORPUS
from tests.helpers.articles import write_article


def test_sentences_split_on_chinese_and_ascii_marks_and_keep_closing_quotes() -> None:
    text = "“这样的活动很好。”近日,王大爷说!真的吗?是的;好……走吧"
    assert split_sentences(text) == [
        "“这样的活动很好。”", "近日,王大爷说!", "真的吗?", "是的;", "好……", "走吧"]


def test_decimal_points_do_not_end_sentences() -> None:
    text = "面积3.5万平方米。就这样. Done"
    assert split_sentences(text) == ["面积3.5万平方米。", "就这样.", "Done"]


def test_bundled_chunks_are_whole_sentences_within_size_and_offsets_match() -> None:
    for article in load_corpus(BUNDLED_CORPUS).articles:
        body = article.body
        for chunk in chunk_article(article):
            assert body[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= MAX_CHARS
            assert chunk.text[-1] in "。！？；;!?”…"
            assert chunk.title == article.title


def test_chunks_never_cross_a_section(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", body="开头一句。\n\n## 甲\n甲的一句。\n\n## 乙\n乙的一句。")
    [article] = load_corpus(tmp_path).articles
    chunks = chunk_article(article)
    assert [(c.section, c.text) for c in chunks] == [
        (None, "开头一句。"), ("甲", "甲的一句。"), ("乙", "乙的一句。")]
    assert [c.ordinal for c in chunks] == [0, 1, 2]
    assert [c.id for c in chunks] == ["a#0", "a#1", "a#2"]


def test_short_sentences_are_grouped_into_passages_of_at_least_80_characters(
        tmp_path: Path) -> None:
    sentence = "社区开放了新的活动室供居民使用。"  # 16 characters
    write_article(tmp_path, "a.md", body=sentence * 40)
    [article] = load_corpus(tmp_path).articles
    sizes = [len(c.text) for c in chunk_article(article)]
    assert sum(sizes) == 16 * 40
    assert all(80 <= size <= MAX_CHARS for size in sizes)


def test_an_overlong_sentence_is_cut_at_commas(tmp_path: Path) -> None:
    body = ",".join(["居民可以在社区服务中心办理各类事务"] * 30) + "。"
    write_article(tmp_path, "a.md", body=body)
    [article] = load_corpus(tmp_path).articles
    chunks = chunk_article(article)
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == body
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert all(c.text.endswith((",", "。")) for c in chunks)


def test_a_quote_keeps_its_attribution_in_the_same_passage() -> None:
    from corpus import load_corpus
    from corpus.chunk import chunk_corpus
    from tests.conftest import BUNDLED_CORPUS

    chunks = chunk_corpus(load_corpus(BUNDLED_CORPUS).articles)
    assert not any(c.text.startswith(("社区党委书记朱光表示", "紫光花园的宋女士笑着说"))
                   for c in chunks)
    assert any("学习红色精神。”社区党委书记朱光表示。" in c.text for c in chunks)
