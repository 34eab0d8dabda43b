import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import load_corpus
from retrieval.index import build_index
from retrieval.search import Searcher
from retrieval.search.kinds import trie_pattern
from tests.conftest import BUNDLED_CORPUS
from tests.helpers.articles import write_article

A4 = "学党史润初心 办实事解民忧"


@pytest.fixture(scope="module")
def searcher() -> Searcher:
    return Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles))


@pytest.mark.parametrize(("question", "title", "passage"), [
    ("老年人活动区在哪里?", A4, "橡树玫瑰社区"),
    ("哪里可以免费量血压?", A4, "测量血压"),
    ("老年人活動區在哪裡？", A4, "橡树玫瑰社区"),
    ("人大代表联络站在哪里", "搭建履职平台 架构连心桥梁", "人大代表联络站"),
    ("免废理发", A4, "免费理发"),
])
def test_sample_questions_find_the_right_passage_first(
        searcher: Searcher, question: str, title: str, passage: str) -> None:
    hit = searcher.search(question)[0]
    assert hit.title == title
    assert passage in hit.text
    assert hit.best_sentence in hit.text


@pytest.mark.parametrize("question", ["怎么办理社保卡", "明天天气怎么样", "你好", "", "？？？"])
def test_questions_the_corpus_does_not_cover_get_no_answer(
        searcher: Searcher, question: str) -> None:
    assert searcher.search(question) == []


def test_best_sentence_is_the_one_with_the_questions_words(searcher: Searcher) -> None:
    hit = searcher.search("哪里可以免费量血压?")[0]
    assert hit.best_sentence.startswith("“这下好了,在家门口不仅能享受到免费理发服务,还能测量血压")


def test_a_where_question_has_the_next_sentence_naming_the_place_bold_too(
        searcher: Searcher) -> None:
    hit = searcher.search("哪里可以免费量血压?")[0]
    assert "测量血压" in hit.best_sentence
    assert hit.best_sentence.endswith(
        "近日,南关街街道在印刷厂街社区开展“便民服务进社区”志愿服务活动,引来众多居民纷纷参与。")
    assert hit.best_sentence in hit.text


def test_the_place_sentence_of_another_paragraph_is_not_made_bold(tmp_path: Path) -> None:
    # The same article, with the place sentence moved to a paragraph of its own.
    article = BUNDLED_CORPUS / "2021-06-学党史润初心-办实事解民忧.md"
    text = article.read_text(encoding="utf-8")
    assert text.count("近日,南关街街道") == 1
    (tmp_path / article.name).write_text(text.replace("近日,南关街街道", "\n\n近日,南关街街道"),
                                         encoding="utf-8")
    hit = Searcher(build_index(load_corpus(tmp_path).articles)).search("哪里可以免费量血压?")[0]
    assert "测量血压" in hit.best_sentence
    assert "印刷厂街社区" not in hit.best_sentence


def test_hits_come_from_different_articles(searcher: Searcher) -> None:
    hits = searcher.search("党史学习教育", k=3)
    assert len({h.article_id for h in hits}) == len(hits) > 1
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_citation_fields_come_with_the_hit(searcher: Searcher) -> None:
    hit = searcher.search("人大代表联络站")[0]
    assert (hit.date, hit.byline, hit.source) == ("2021-06", "记者 柴琳琳 通讯员 黄帅", None)


def test_title_counts_towards_the_match(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", title="人大代表联络站每周开放",
                  body="联络站设在街道办二楼。居民可以当面反映问题。")
    write_article(tmp_path, "b.md", title="社区新闻",
                  body="居民反映问题的渠道越来越多,人大代表也常来走访。")
    searcher = Searcher(build_index(load_corpus(tmp_path).articles))
    assert searcher.search("人大代表联络站在哪")[0].article_id == "a"


def test_k_must_be_positive(searcher: Searcher) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        searcher.search("下棋", k=0)


def test_a_where_question_is_answered_with_the_sentence_naming_the_place(
        searcher: Searcher) -> None:
    hit = searcher.search("人大代表联络站在哪里？")[0]
    assert "十八里河街道人大代表联络站" in hit.best_sentence


def test_a_stray_latin_slip_does_not_turn_a_clear_question_into_no_answer(
        searcher: Searcher) -> None:
    hit = searcher.search("ce哪里可以量血压")[0]
    assert "测量血压" in hit.text


def test_a_long_latin_word_the_corpus_lacks_still_counts_against_the_answer(
        searcher: Searcher) -> None:
    assert searcher.answer("哪里有免费wifi").outcome.value != "answered"


def test_a_related_but_inexact_question_gets_the_closest_match_not_an_answer(
        searcher: Searcher) -> None:
    found = searcher.answer("儿童微乐园几点关门")
    assert found.outcome.value == "closest" and not found.answered
    assert "儿童微乐园" in found.hits[0].text and len(found.hits) == 1
    assert searcher.search("儿童微乐园几点关门") == []
    assert 0.0 <= found.confidence <= 1.0


def test_nothing_relevant_gets_nothing(searcher: Searcher) -> None:
    found = searcher.answer("明天天气怎么样")
    assert found.outcome.value == "nothing" and found.hits == []


def test_a_word_jieba_cuts_differently_matches_by_its_character_pairs(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", title="社区通知",
                  body="绿城广场东侧的便民点每周六提供免费磨剪刀服务。")
    write_article(tmp_path, "b.md", title="社区新闻",
                  body="社区每周六组织志愿者打扫楼道卫生。")
    searcher = Searcher(build_index(load_corpus(tmp_path).articles))
    # 磨剪刀 is one word to jieba here; the passage's cut differs (磨/剪刀).
    hit = searcher.answer("磨剪刀去哪", k=1).hits[0]
    assert hit.article_id == "a"


def test_an_answer_continuing_in_the_next_passage_is_shown_with_it(searcher: Searcher) -> None:
    hit = searcher.search("老人活动的地方几月份开放")[0] if searcher.search(
        "老人活动的地方几月份开放") else searcher.answer("老人活动的地方几月份开放").hits[0]
    assert "4月" in hit.shown_text


def test_a_when_question_is_shown_the_passage_and_sentence_with_the_date(
        searcher: Searcher) -> None:
    # The window's other passage holds every word too (开放绿地), but no date.
    hit = searcher.search("橡树玫瑰社区老年人活动区啥时候开始开放的")[0]
    assert "4月" in hit.best_sentence


def test_a_how_often_question_is_shown_the_sentence_with_the_frequency(
        searcher: Searcher) -> None:
    hit = searcher.search("人大代表多久去联络站一回")[0]
    assert "每季度" in hit.best_sentence


def test_a_question_for_a_phone_number_is_not_answered_by_a_passage_without_one(
        searcher: Searcher) -> None:
    found = searcher.answer("十八里河街道人大代表联络站电话多少")
    assert not found.answered
    assert found.features is not None and found.features.detail_missing == 1.0
    # The same passage answers the question it does hold.
    assert searcher.answer("十八里河街道人大代表联络站在哪").answered


def test_a_phone_number_in_the_passage_answers_the_question_for_it(tmp_path: Path) -> None:
    write_article(tmp_path, "a.md", title="便民热线",
                  body="青翠路社区党群服务中心开通便民服务热线，电话：0371-66668888。")
    write_article(tmp_path, "b.md", title="社区新闻",
                  body="社区每周六组织志愿者打扫楼道卫生。")
    found = Searcher(build_index(load_corpus(tmp_path).articles)).answer(
        "青翠路社区党群服务中心电话是多少")
    assert found.features is not None and found.features.detail_missing == 0.0
    assert "0371-66668888" in found.hits[0].best_sentence


def test_an_everyday_word_finds_the_article_word_through_the_lexicon(
        searcher: Searcher) -> None:
    # 剃头 is nowhere in the corpus: colloquial.txt pairs it with 理发.
    hit = searcher.answer("哪里能免费剃头").hits[0]
    assert "理发" in hit.best_sentence


def test_common_words_weigh_less_than_rare_ones_whatever_the_corpus() -> None:
    from retrieval.text.commonness import weight_factor

    assert weight_factor("开始") < 0.5 < weight_factor("附近") < 1.0
    assert weight_factor("理发") == weight_factor("十八里河") == 1.0


def test_a_which_ones_question_is_shown_the_sentence_listing_them(searcher: Searcher) -> None:
    # The passage naming the meeting scores higher; the one listing whom it honoured
    # holds the question's words too, and the list.
    hit = searcher.search("表彰了哪些先进")[0]
    assert "优秀共产党员、优秀党务工作者" in hit.best_sentence


def test_a_cost_question_searches_the_service_and_wants_a_price_or_free(
        searcher: Searcher) -> None:
    # 要钱 is what is asked, not what about: the passage is the one on 测量血压, with 免费.
    found = searcher.answer("量血压要钱吗")
    assert found.answered and "测量血压" in found.hits[0].text
    assert "免费" in found.hits[0].best_sentence


def test_a_quote_is_bolded_with_its_attribution_never_the_attribution_alone(
        searcher: Searcher) -> None:
    hit = searcher.answer("紫光花园有儿童微乐园吗").hits[0]
    assert hit.best_sentence.startswith("“以后再也不怕孩子没有地方玩了")
    assert hit.best_sentence.endswith("紫光花园的宋女士笑着说。")


@pytest.mark.parametrize("question", ["港湾社区有养老服务中心吗", "航海东路街道人大代表联络站在哪"])
def test_a_question_about_another_place_is_not_answered_with_this_ones_passage(
        searcher: Searcher, question: str) -> None:
    # The articles speak of 平等街社区 and 十八里河街道: the rest of the words match.
    found = searcher.answer(question)
    assert not found.answered
    assert found.features is not None and found.features.place_missing == 1.0


def test_the_place_the_passage_names_still_answers(searcher: Searcher) -> None:
    assert searcher.answer("平等街社区有养老服务中心吗").answered


@pytest.mark.parametrize("question", ["人大代表联络站开放时间", "红色阅览角几点开门"])
def test_a_question_for_opening_hours_is_not_answered_by_a_passage_without_any(
        searcher: Searcher, question: str) -> None:
    # 全天候连心桥 and 6月28日下午 are no opening hours.
    found = searcher.answer(question)
    assert not found.answered
    assert found.features is not None and found.features.detail_missing == 1.0


def test_a_who_question_is_shown_the_sentence_naming_someone(searcher: Searcher) -> None:
    # 表彰大会 weighs more than 主持, but the opening sentence names nobody.
    hit = searcher.search("谁主持了表彰大会")[0]
    assert "刘利主持会议" in hit.best_sentence


def test_the_same_report_filed_twice_is_shown_once(tmp_path: Path) -> None:
    body = "绿城广场东侧的便民点每周六提供免费磨剪刀服务。"
    write_article(tmp_path, "a.md", title="便民服务", body=body)
    write_article(tmp_path, "b.md", title="便民服务", body=body)  # the same report, reprinted
    write_article(tmp_path, "c.md", title="磨剪刀", body="社区志愿者每周六在绿城广场磨剪刀。")
    write_article(tmp_path, "d.md", title="社区新闻", body="社区每周六组织志愿者打扫楼道卫生。")
    hits = Searcher(build_index(load_corpus(tmp_path).articles)).search("绿城广场哪里磨剪刀")
    assert len({h.text for h in hits}) == len(hits) >= 2


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.text(alphabet="十八里河街道社区", min_size=1, max_size=5), max_size=8),
       text=st.text(alphabet="十八里河街道社区的", max_size=30))
def test_the_names_pattern_finds_what_an_alternation_longest_first_finds(
        names: list[str], text: str) -> None:
    # The trie pattern must find exactly what "|".join(longest first) found.
    alternation = "|".join(map(re.escape, sorted(set(names), key=len, reverse=True)))
    expected = [m[0] for m in re.finditer(alternation, text)] if names else []
    found = [m[0] for m in re.finditer(trie_pattern(names), text)] if names else []
    assert found == expected
