import pytest

from bot.replies import MAX_MESSAGE, Button, Reply, article_parts
from corpus.models import Article, Section
from corpus.text import normalize_text


def test_corpus_text_is_escaped_in_html() -> None:
    reply = Reply(pieces=[("a<b>&c", False), ("<i>x</i>", True)])
    assert reply.html() == "a&lt;b&gt;&amp;c<b>&lt;i&gt;x&lt;/i&gt;</b>"


def test_callback_data_over_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="over 64 bytes"):
        Button("太长", "a:" + "老年人活动区在哪里" * 3)


def test_a_long_article_is_split_on_paragraphs_with_the_title_on_each_part() -> None:
    paragraph = ("社区根据老年朋友的兴趣爱好等实际情况"
                 "在老年人活动区中修建健身器材、休息长椅、棋牌桌等设施。")
    paragraphs = tuple(f"{i}{paragraph * 3}" for i in range(60))
    article = Article(id="a", title="长文章", date="2021-06",
                      sections=(Section(paragraphs=paragraphs),))
    parts = article_parts(article)
    assert len(parts) > 1
    for i, part in enumerate(parts, start=1):
        assert len(part.html()) <= MAX_MESSAGE
        assert part.html().startswith(f"<b>《长文章》（{i}/{len(parts)}）</b>")
    text = "".join(p.plain() for p in parts)
    assert all(p in text for p in paragraphs)  # nothing lost, no paragraph cut
    assert parts[-1].plain().endswith("📰《长文章》\n　2021年6月")


def test_normalisation_unifies_quotes_and_spaces_but_keeps_chinese_punctuation() -> None:
    assert normalize_text("「儿童微乐园」  在\u3000哪里？ \"好\"") == "“儿童微乐园” 在 哪里？ “好”"


def test_a_giant_follow_up_answer_with_topic_and_dated_note_fits_one_message() -> None:
    from bot.replies import answer
    from retrieval.search import Hit

    text = "很长的段落。" * 1000
    hit = Hit(rank=1, score=1.0, coverage=1.0, chunk_id="c", article_id="a", title="标题",
              subtitle=None, source="来源", date="2021-06", byline=None, url=None,
              section=None, text=text, best_sentence="很长的段落。")
    reply = answer(hit, 1, 1, [], topic="老年人活动区", stale=True)
    assert len(reply.html()) <= MAX_MESSAGE
    assert reply.plain().startswith("关于“老年人活动区”：")
    assert "这篇报道发表于2021年6月" in reply.plain()


def test_the_message_limit_is_telegrams() -> None:
    # replies.py stays Telegram-free by spelling the number out; it must still be Telegram's.
    from telegram.constants import MessageLimit

    assert MessageLimit.MAX_TEXT_LENGTH == MAX_MESSAGE
