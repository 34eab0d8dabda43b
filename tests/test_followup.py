"""The follow-up rule: which short messages are read in the previous question's context."""

import pytest

from corpus import load_corpus
from retrieval.index import build_index
from retrieval.search import Searcher
from retrieval.search.followup import is_candidate, resolve, topic_of
from tests.conftest import BUNDLED_CORPUS


@pytest.fixture(scope="module")
def searcher() -> Searcher:
    return Searcher(build_index(load_corpus(BUNDLED_CORPUS).articles))


def test_a_short_question_is_read_with_the_topic_of_the_previous_one(
        searcher: Searcher) -> None:
    resolved = resolve(searcher, "有什么设施？", "老年人活动区在哪里？")
    assert resolved.topic == "老年人活动区"
    assert resolved.answer.answered and "棋牌桌" in resolved.answer.hits[0].shown_text
    alone = searcher.answer("有什么设施？")
    assert "棋牌桌" not in alone.hits[0].shown_text  # without context: another passage


def test_a_question_naming_its_own_topic_is_not_a_follow_up(searcher: Searcher) -> None:
    resolved = resolve(searcher, "哪里可以免费量血压？", "老年人活动区在哪里？")
    assert resolved.topic is None and "测量血压" in resolved.answer.hits[0].shown_text
    assert not is_candidate(searcher, "身份证丢了怎么补办")
    assert not is_candidate(searcher, "谢谢")  # not a question
    assert not is_candidate(searcher, "老年人活动区那边的棋牌桌和休息长椅晚上几点以后还能用呢？")


def test_a_follow_up_the_corpus_cannot_answer_gets_an_honest_no_with_its_topic(
        searcher: Searcher) -> None:
    resolved = resolve(searcher, "电话多少？", "老年人活动区在哪里？")
    assert resolved.topic == "老年人活动区"
    assert resolved.answer.hits == [] and not resolved.answer.answered


def test_without_context_a_message_is_answered_alone(searcher: Searcher) -> None:
    assert resolve(searcher, "有什么设施？", None).topic is None


def test_the_topic_is_named_by_the_weightiest_words_as_written(searcher: Searcher) -> None:
    assert topic_of(searcher, "哪里可以免费量血压？") == "免费量血压"
    assert topic_of(searcher, "红色阅览角在哪里？") == "红色阅览角"
    assert topic_of(searcher, "？？") is None
    assert topic_of(searcher, "免废理发在哪") == "免费理发"  # the typo repaired


def test_context_words_weigh_less_than_the_words_typed(searcher: Searcher) -> None:
    # With 老年人活动区 as context, the typed 血压 still decides the passage.
    found = searcher.answer("血压", context="老年人活动区在哪里？")
    assert "测量血压" in found.hits[0].shown_text


def test_a_noun_the_corpus_never_uses_names_a_topic_of_its_own(searcher: Searcher) -> None:
    # 食堂 is in no article: read with 老年人活动区's words, it was shown the activity area.
    resolved = resolve(searcher, "社区食堂在哪", "老年人活动区在哪里？")
    assert resolved.topic is None and not resolved.answer.answered
    assert not is_candidate(searcher, "社区食堂在哪")
    assert is_candidate(searcher, "电话多少？")  # 电话 says which kind is asked


def test_the_topic_is_not_named_when_the_context_changed_nothing(searcher: Searcher) -> None:
    # Asked alone, 免废理发在哪 gets the same passage: no 关于"老年人活动区"： heading.
    resolved = resolve(searcher, "免废理发在哪", "老年人活动区在哪里？")
    assert resolved.topic is None
    assert resolved.answer.answered and "免费理发" in resolved.answer.hits[0].shown_text


def test_a_follow_up_answered_alone_the_same_keeps_the_context_without_its_heading(
        searcher: Searcher) -> None:
    resolved = resolve(searcher, "远不远？", "老年人活动区在哪里？")
    assert resolved.followup and resolved.heading is None  # the context stays, unnamed
    assert "走路十多分钟" in resolved.answer.hits[0].shown_text
