from typing import Any

from tests.helpers.harness import Harness

A4 = "学党史润初心 办实事解民忧"


def labels(message: dict[str, Any]) -> list[list[str]]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [[b["text"] for b in row] for row in markup["inline_keyboard"]]


async def test_question_gets_passage_with_bold_sentence_citation_and_buttons(
        bot: Harness) -> None:
    reply = await bot.ask("老年人活动区在哪里?")
    text = reply["text"]
    bold = "<b>吸引李大爷前来下棋的好地方,正是管城区橡树玫瑰社区首个建成的老年人活动区。</b>"
    assert bold in text
    assert f"📰《{A4}》" in text
    assert "社区服务项目化 走深走实顺民意" in text
    assert "2021年6月 · 记者 柴琳琳 通讯员 黄帅" in text
    assert reply["params"]["parse_mode"] == "HTML"
    assert labels(reply)[-1] == ["👍 有用", "👎 没用"]
    assert "📖 阅读全文" in labels(reply)[0]


async def test_traditional_characters_get_the_same_answer(bot: Harness) -> None:
    reply = await bot.ask("老年人活動區在哪裡？")
    assert "橡树玫瑰社区" in reply["text"] and f"《{A4}》" in reply["text"]


async def test_no_answer_is_honest_and_offers_examples_that_work(bot: Harness) -> None:
    reply = await bot.ask("怎么办理社保卡")
    assert reply["text"].startswith("抱歉，现有的报道里没有找到能回答“怎么办理社保卡”的内容")
    assert "📰" not in reply["text"]  # never a random passage
    examples = [row[0] for row in labels(reply) if row != ["🔔 有答复时通知我"]]
    assert len(examples) == 3
    await bot.telegram.press(reply, examples[0])
    [answer] = await bot.telegram.wait_for("sendMessage")
    assert "📰《" in answer["text"]


async def test_next_button_edits_the_same_message_to_another_source(bot: Harness) -> None:
    first = await bot.ask("党史学习教育")
    assert "下一条 ▶" in labels(first)[0]
    title = first["text"].split("📰")[1].split("》")[0]
    await bot.telegram.press(first, "下一条 ▶")
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert int(edit["message_id"]) == first["message_id"]
    assert "📰《" in edit["text"] and edit["text"].split("📰")[1].split("》")[0] != title
    assert "（第 2 条，共" in edit["text"]


async def test_read_all_sends_the_whole_article_in_parts_under_4096(bot: Harness) -> None:
    reply = await bot.ask("哪里可以免费量血压")
    await bot.telegram.press(reply, "📖 阅读全文")
    [part] = await bot.telegram.wait_for("sendMessage")
    assert part["text"].startswith(f"<b>《{A4}》</b>")
    assert "【理论宣讲“好声音”持续深刻入民心】" in part["text"]
    assert "社区党委书记朱光表示" in part["text"]
    assert len(part["text"]) <= 4096


async def test_feedback_is_recorded_and_the_buttons_say_thanks(bot: Harness) -> None:
    reply = await bot.ask("哪里可以下棋")
    await bot.telegram.press(reply, "👍 有用")
    [answered] = await bot.telegram.wait_for("answerCallbackQuery")
    assert answered["text"] == "谢谢您的反馈 🙏"
    await bot.telegram.wait_for("editMessageReplyMarkup")
    assert labels(bot.telegram.messages[reply["message_id"]]) == [
        labels(reply)[0], ["谢谢您的反馈 🙏"]]
    stats = bot.app.bot_data["conversation"].records.stats(7)
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 0)


async def test_start_help_and_about(bot: Harness) -> None:
    welcome = await bot.ask("/start")
    assert welcome["text"].startswith("您好！我是“邻里”社区服务小助手")
    assert len(labels(welcome)) == 3
    assert "直接用文字提问" in (await bot.ask("/help"))["text"]
    about = (await bot.ask("/about"))["text"]
    assert "已收录 4 篇本地新闻报道，最新一篇发表于 2021年6月。" in about


async def test_stickers_photos_and_voice_get_a_hint(bot: Harness) -> None:
    for content in ({"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular",
                                 "width": 1, "height": 1, "is_animated": False,
                                 "is_video": False}},
                    {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1,
                                "height": 1}]},
                    {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 1}}):
        await bot.telegram.send_message(**content)
        [reply] = await bot.telegram.wait_for("sendMessage")
        assert reply["text"].startswith("我只能读懂文字问题")


async def test_emoji_only_and_very_long_questions(bot: Harness) -> None:
    assert (await bot.ask("😀😀😀"))["text"].startswith("请用文字描述您的问题")
    long = "老年人活动区在哪里" + "，" * 300
    reply = await bot.ask(long)
    assert reply["text"].startswith("（问题较长，只按前 200 个字查找）")
    assert "橡树玫瑰社区" in reply["text"]


async def test_more_than_ten_questions_a_minute_is_asked_to_slow_down(bot: Harness) -> None:
    for _ in range(10):
        assert "📰" in (await bot.ask("哪里可以下棋"))["text"]
    assert (await bot.ask("哪里可以下棋"))["text"] == "您提问有点快了，请稍等一分钟再问。"
    # Another resident is not slowed down.
    assert "📰" in (await bot.ask("哪里可以下棋", user_id=2002))["text"]


async def test_in_groups_only_ask_mentions_and_replies_are_answered(bot: Harness) -> None:
    group = -5005
    await bot.telegram.send_text("哪里可以下棋", chat_id=group)
    await bot.telegram.send_text("/ask 哪里可以下棋", chat_id=group)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert "下棋" in reply["text"] and int(reply["chat_id"]) == group
    assert len(bot.telegram.sent()) == 1  # the plain message was not answered
    await bot.telegram.send_text("@linli_test_bot 哪里可以免费量血压", chat_id=group)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert "测量血压" in reply["text"]
    await bot.telegram.send_text("那理发呢", chat_id=group,
                                 reply_to=bot.telegram.last_message())
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert "免费理发" in reply["text"]


async def test_a_related_but_inexact_question_gets_the_closest_match_labelled_as_such(
        bot: Harness) -> None:
    reply = await bot.ask("儿童微乐园几点关门")
    text = reply["text"]
    assert text.startswith("没有找到确切的答案，这篇报道可能相关：")
    assert "儿童微乐园" in text and f"📰《{A4}》" in text
    assert "📖 阅读全文" in labels(reply)[0] and labels(reply)[1] == ["👍 有用", "👎 没用"]
    assert labels(reply)[-1] == ["🔔 有答复时通知我"]  # a closest match is not an answer
    records = bot.app.bot_data["conversation"].records
    assert records.stats(7).questions == 1 and records.stats(7).answered == 0


async def test_a_where_question_names_the_place_in_bold(bot: Harness) -> None:
    reply = await bot.ask("人大代表联络站在哪里？")
    assert "<b>" in reply["text"]
    bold = reply["text"].split("<b>", 1)[1].split("</b>", 1)[0]
    assert "十八里河街道人大代表联络站" in bold
    assert not reply["text"].startswith("没有找到确切的答案")


async def test_every_example_question_is_answered_outright_from_its_own_article(
        bot: Harness) -> None:
    reply = await bot.ask("怎么办理社保卡")
    examples = [row[0] for row in labels(reply) if row != ["🔔 有答复时通知我"]]
    assert len(examples) == 3
    titles = set()
    for example in examples:
        answer = await bot.ask(example)
        assert "📰《" in answer["text"] and not answer["text"].startswith("没有找到确切的答案")
        titles.add(answer["text"].split("📰《", 1)[1].split("》", 1)[0])
    assert len(titles) == 3  # each article's most confident question, not three of one
