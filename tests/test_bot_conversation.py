"""A conversation, end to end through the fake Bot API: follow-ups, dated answers,
the command menu, inline mode, deep links, group quoting and "typing…"."""

import asyncio
import datetime as dt
from typing import Any

import pytest

from bot.channels.telegram.deep_link import decode_payload, encode_question, question_link
from bot.cli import main
from bot.conversation import Conversation
from tests.helpers.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram, html_problem
from tests.helpers.harness import ADMIN_ID, RESIDENT_ID, Harness

NEIGHBOUR_ID = 1002
GROUP_ID = -100500
TOPIC = "关于“老年人活动区”："
FACILITIES = "休息长椅、棋牌桌等设施"
STALE = "这篇报道发表于2021年6月，具体安排可能已有变化，请以社区最新通知为准。"


def conversation(bot: Harness) -> Conversation:
    found: Conversation = bot.app.bot_data["conversation"]
    return found


async def ask_in_group(bot: Harness, text: str, user_id: int = RESIDENT_ID) -> dict[str, Any]:
    await bot.telegram.send_text(f"/ask {text}", user_id=user_id, chat_id=GROUP_ID)
    [sent] = await bot.telegram.wait_for("sendMessage")
    return sent


async def test_a_follow_up_is_answered_in_context_and_names_the_topic(bot: Harness) -> None:
    first = await bot.ask("老年人活动区在哪里？")
    assert "橡树玫瑰社区" in first["text"] and TOPIC not in first["text"]
    follow = await bot.ask("有什么设施？")
    assert follow["text"].startswith(TOPIC)
    assert f"在老年人活动区中修建健身器材、{FACILITIES}。</b>" in follow["text"]
    assert "📰《学党史润初心 办实事解民忧》" in follow["text"]
    # The context stays. 远不远？ gets the same passage asked alone: the context was not
    # used, so no heading; a third follow-up still reads in the topic.
    far = await bot.ask("远不远？")
    assert "走路十多分钟" in far["text"] and TOPIC not in far["text"]
    assert (await bot.ask("电话多少？"))["text"].startswith(TOPIC + "抱歉")


async def test_a_follow_up_the_corpus_cannot_answer_is_an_honest_no_naming_the_topic(
        bot: Harness) -> None:
    await bot.ask("老年人活动区在哪里？")
    reply = await bot.ask("电话多少？")
    assert reply["text"].startswith(
        "关于“老年人活动区”：抱歉，现有的报道里没有找到能回答“电话多少？”的内容")
    assert "📰" not in reply["text"]


async def test_a_message_naming_a_topic_of_its_own_is_not_headed_with_the_last_one(
        bot: Harness) -> None:
    await bot.ask("老年人活动区在哪里？")
    canteen = await bot.ask("社区食堂在哪")  # no article mentions a canteen
    assert canteen["text"].startswith("抱歉，现有的报道里没有找到能回答“社区食堂在哪”的内容")
    assert "关于“" not in canteen["text"] and "📰" not in canteen["text"]
    await bot.ask("老年人活动区在哪里？")
    haircut = await bot.ask("免废理发在哪")  # the same passage as asked alone: no heading
    assert "关于“" not in haircut["text"]
    assert "免费理发" in haircut["text"] and "📰《学党史润初心 办实事解民忧》" in haircut["text"]
    # It is the new context: a follow-up now reads in its topic.
    assert (await bot.ask("还有什么服务？"))["text"].startswith("关于“免费理发”：")


async def test_the_context_never_crosses_users_or_chats(bot: Harness) -> None:
    await bot.ask("老年人活动区在哪里？")
    other = await bot.ask("有什么设施？", user_id=NEIGHBOUR_ID)
    assert TOPIC not in other["text"]
    group = await ask_in_group(bot, "有什么设施？")  # the same resident, in a group
    assert TOPIC not in group["text"]
    assert (await bot.ask("有什么设施？"))["text"].startswith(TOPIC)  # still there in private


async def test_the_context_expires_and_a_new_question_replaces_it(bot: Harness) -> None:
    contexts = conversation(bot).contexts
    await bot.ask("老年人活动区在哪里？")
    await bot.ask("哪里可以免费量血压？")  # a complete new question: the new context
    assert (await bot.ask("还有什么服务？"))["text"].startswith("关于“免费量血压”：")
    started = contexts.clock()
    contexts.clock = lambda: started + contexts.seconds + 1  # a few minutes later
    later = await bot.ask("还有什么服务？")
    assert "关于“" not in later["text"]


async def test_an_old_article_gets_a_dated_note_and_a_recent_one_does_not(
        bot: Harness) -> None:
    assert STALE in (await bot.ask("老年人活动区在哪里？"))["text"]
    conversation(bot).today = lambda: dt.date(2021, 9, 1)  # three months after June 2021
    assert "具体安排可能已有变化" not in (await bot.ask("哪里可以免费量血压？"))["text"]


async def test_a_follow_up_at_299_seconds_is_read_in_context_and_at_301_is_a_new_question(
        bot: Harness) -> None:
    now = [1000.0]
    conversation(bot).contexts.clock = lambda: now[0]  # the context store's clock, injected
    await bot.ask("老年人活动区在哪里？")
    now[0] += 299
    assert (await bot.ask("有什么设施？"))["text"].startswith(TOPIC)
    now[0] += 301  # after the follow-up, which kept the context fresh
    assert TOPIC not in (await bot.ask("有什么设施？"))["text"]


async def test_the_dated_note_starts_when_the_article_is_twelve_whole_months_old(
        bot: Harness) -> None:
    # The article is of 2021-06 (the 1st, then); LINLI_STALE_MONTHS keeps its default.
    conversation(bot).today = lambda: dt.date(2022, 5, 31)  # 11 months
    assert "具体安排可能已有变化" not in (await bot.ask("老年人活动区在哪里？"))["text"]
    conversation(bot).today = lambda: dt.date(2022, 6, 1)  # 12 months: the note is shown
    assert STALE in (await bot.ask("老年人活动区在哪里？"))["text"]


async def test_the_command_menu_is_registered_for_residents_and_for_admins_only(
        bot: Harness) -> None:
    calls = bot.telegram.sent("setMyCommands")
    everyone = next(c for c in calls if "scope" not in c)
    assert [c["command"] for c in everyone["commands"]] == ["start", "help", "about", "ask"]
    assert all("\u4e00" <= c["description"][0] <= "\u9fff" for c in everyone["commands"])
    [admins] = [c for c in calls if "scope" in c]
    assert admins["scope"] == {"type": "chat", "chat_id": ADMIN_ID}
    assert {"reload", "stats", "import"} <= {c["command"] for c in admins["commands"]}


async def test_inline_query_offers_the_top_answers_as_link_free_html(bot: Harness) -> None:
    await bot.telegram.send_inline("老年人活动区在哪里")
    [answer] = await bot.telegram.wait_for("answerInlineQuery")
    results = answer["results"]
    assert 1 <= len(results) <= 3
    first = results[0]
    assert first["type"] == "article" and "橡树玫瑰社区" in first["title"]
    assert "学党史润初心" in first["description"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML" and html_problem(content["message_text"]) is None
    assert "<b>吸引李大爷前来下棋的好地方" in content["message_text"]
    assert "📰《学党史润初心 办实事解民忧》" in content["message_text"]
    assert "http" not in content["message_text"]


async def test_inline_query_without_an_answer_says_so_in_one_result(bot: Harness) -> None:
    await bot.telegram.send_inline("怎么办理社保卡")
    [answer] = await bot.telegram.wait_for("answerInlineQuery")
    [result] = answer["results"]
    assert result["title"] == "没有找到相关报道"
    assert "没有找到能回答“怎么办理社保卡”的内容" in result["input_message_content"][
        "message_text"]


async def test_a_deep_link_opens_with_its_question_answered(bot: Harness) -> None:
    link = question_link(BOT_USERNAME, "哪里可以免费量血压？")
    payload = link.split("?start=")[1]
    reply = await bot.ask(f"/start {payload}")
    assert "测量血压" in reply["text"] and "📰《" in reply["text"]
    assert (await bot.ask("/start"))["text"].startswith("您好！")  # no payload: the welcome


async def test_a_reply_in_a_group_quotes_the_asker(bot: Harness) -> None:
    asked = await bot.telegram.send_text("/ask 老年人活动区在哪里？", chat_id=GROUP_ID)
    [sent] = await bot.telegram.wait_for("sendMessage")
    assert sent["reply_parameters"]["message_id"] == asked["message_id"]
    assert int(sent["chat_id"]) == GROUP_ID and "橡树玫瑰社区" in sent["text"]
    assert "reply_parameters" not in (await bot.ask("老年人活动区在哪里？"))["params"]


async def test_a_reload_shows_typing_while_it_works(bot: Harness) -> None:
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [action] = await bot.telegram.wait_for("sendChatAction")
    assert action["action"] == "typing" and int(action["chat_id"]) == ADMIN_ID
    await bot.telegram.wait_for("sendMessage", count=1)


def test_the_fake_server_refuses_html_telegram_would_refuse() -> None:
    assert html_problem("<b>加粗</b> &amp; 正常") is None
    assert html_problem("<b>没有结束") is not None
    assert html_problem("<p>段落</p>") is not None
    assert html_problem("A & B") is not None
    assert html_problem("字" * 4097) == "message is too long"


def test_deep_link_payloads_round_trip_and_a_long_question_is_refused() -> None:
    payload = encode_question("老年人活动区在哪里？")
    assert len(payload) <= 64 and decode_payload(payload) == "老年人活动区在哪里？"
    assert decode_payload("not*base64") is None
    with pytest.raises(ValueError, match="at most 16 Chinese characters"):
        encode_question("老年人活动区里的棋牌桌和休息长椅每天晚上几点关门？")


async def test_link_asks_telegram_for_the_bot_username_without_bot_option(
        telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    assert await asyncio.to_thread(main, ["link", "哪里可以下棋？"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=")
    assert decode_payload(link.split("?start=")[1]) == "哪里可以下棋？"
