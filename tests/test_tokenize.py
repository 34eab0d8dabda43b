from pathlib import Path

import jieba
import pytest

from retrieval.text.tokenize import Tokenizer, normalize_for_search


def test_traditional_characters_and_full_width_letters_are_normalised() -> None:
    assert normalize_for_search("老年人活動區在哪裡？ＡＢＣ") == "老年人活动区在哪里？abc"


def test_question_words_punctuation_and_stopwords_are_dropped() -> None:
    assert Tokenizer().tokenize("请问，哪里可以下棋？？？") == ["下棋"]


def test_community_service_words_stay_whole_and_keep_their_parts() -> None:
    tokens = Tokenizer().tokenize("老年人活动区")
    assert "老年人活动区" in tokens
    assert {"老年人", "活动区"} <= set(tokens)


def test_local_names_become_single_tokens_with_search_mode_parts() -> None:
    plain = Tokenizer().words("十八里河街道")
    assert "十八里河街道" not in plain
    tokens = Tokenizer(["十八里河街道"]).tokenize("十八里河街道")
    assert "十八里河街道" in tokens and "街道" in tokens


def test_each_tokenizer_is_private_and_leaves_jiebas_default_alone() -> None:
    Tokenizer(["橡树玫瑰社区"])
    assert "橡树玫瑰社区" not in jieba.dt.FREQ


def test_fingerprint_changes_with_the_local_names() -> None:
    assert Tokenizer(["港湾社区"]).fingerprint != Tokenizer().fingerprint


def test_tagging_without_hmm_equals_jieba_posseg() -> None:
    from jieba import posseg

    from corpus import load_corpus
    from tests.conftest import BUNDLED_CORPUS

    tokenizer = Tokenizer(["朝阳社区"])
    tagger = posseg.POSTokenizer(tokenizer=tokenizer._jieba)
    texts = [p for a in load_corpus(BUNDLED_CORPUS).articles for p in [a.title, *a.paragraphs]]
    texts += ["COVID-19 疫苗 3.5 万剂，A座 2号楼\r\n 朝阳社区 x+y#z&w_v。", "Wi-Fi 1.2.3 abc"]
    for text in texts:
        normal = normalize_for_search(text)
        expected = [(p.word, p.flag) for p in tagger.cut(normal, HMM=False) if p.word.strip()]
        assert tokenizer.tagged(text) == expected


def test_looking_tags_up_one_by_one_tags_as_the_whole_table() -> None:
    from corpus import load_corpus
    from retrieval.text.tokenize import SortedTags, word_tags
    from tests.conftest import BUNDLED_CORPUS

    table = word_tags()
    sorted_tags = SortedTags.from_tags(table)
    for word in ["社区", "朝阳", "的", "十八里河", "不在词典里的词", "a", "", "鿿"]:
        assert sorted_tags.get(word, "x") == table.get(word, "x")
    tokenizer = Tokenizer(["朝阳社区"])
    for article in load_corpus(BUNDLED_CORPUS).articles:
        for text in [article.title, *article.paragraphs]:
            assert tokenizer.tagged(text, few=True) == tokenizer.tagged(text)


def test_a_damaged_copy_of_the_tag_table_is_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from retrieval.text import tokenize

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    tokenize.sorted_word_tags.cache_clear()
    try:
        first = tokenize.sorted_word_tags()
        copy = next(tmp_path.glob("linli-word-tags-*.txt"))
        data = bytearray(copy.read_bytes())
        data[-3] ^= 1  # one flipped bit in the last line
        copy.write_bytes(bytes(data))
        tokenize.sorted_word_tags.cache_clear()
        again = tokenize.sorted_word_tags()
        assert again.lines == first.lines and copy.read_bytes() != bytes(data)
    finally:
        tokenize.sorted_word_tags.cache_clear()
