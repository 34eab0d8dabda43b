"""Correcting answers from /pending: the link pick among the top passages, designated
replies, and who may use the queue (admins in their private chat only)."""

import html

from tests.helpers.harness import ADMIN_ID, Harness
from tests.test_bot_resident import labels
from tests.test_staff_loop import ANSWER, QUESTION, pending, press, save, write_answer

PLACE = "老年人活动区在哪里？"


async def test_a_thumbs_down_answer_is_corrected_by_picking_another_passage(
        bot: Harness) -> None:
    first = await bot.ask(PLACE)
    await press(bot, first, "👎 没用", user_id=1001, method="answerCallbackQuery")
    page = await pending(bot)
    assert page["text"].splitlines()[1].startswith(f"1. {PLACE}（1 次")
    assert "👎" in page["text"].splitlines()[1]
    [candidates] = await press(bot, page, "🔗 选段落 1")
    assert labels(bot.telegram.messages[max(bot.telegram.messages)])[1] == ["用第 2 段"]
    second = candidates["text"].split("\n2. ")[1].split("\n", 1)[1].rstrip("…")[:30]
    await bot.telegram.press(bot.telegram.last_message(), "用第 2 段", ADMIN_ID)
    [done] = await bot.telegram.wait_for("sendMessage")
    assert done["text"].startswith(f"✅ 以后居民问“{PLACE}”")
    again = await bot.ask("老年人活动区在哪里", user_id=3001)  # the same searched words
    assert html.unescape(second) in html.unescape(again["text"])
    assert html.unescape(first["text"]) != html.unescape(again["text"])
    assert (await pending(bot))["text"] == "✅ 没有待答复的问题。"


async def test_a_designated_reply_answers_what_the_district_does_not_handle(
        bot: Harness) -> None:
    await bot.ask("户口迁移怎么办理？")
    hotline = "请拨打12345政务服务热线咨询。"
    await save(bot, await write_answer(bot, 1, hotline))
    assert "12345" not in (await bot.ask("噪音扰民找谁投诉？", user_id=3001))["text"]
    page = await pending(bot)
    [_] = await press(bot, page, "🔗 选段落 1")
    [choices] = await press(bot, bot.telegram.last_message(), "指定答复")
    assert labels(bot.telegram.messages[max(bot.telegram.messages)]) == [["户口迁移怎么办理？"]]
    assert choices["text"].startswith("选择用哪条答复")
    await bot.telegram.press(bot.telegram.last_message(), "户口迁移怎么办理？", ADMIN_ID)
    [done] = await bot.telegram.wait_for("sendMessage")
    assert done["text"].startswith("✅ 以后居民问“噪音扰民找谁投诉？”")
    reply = await bot.ask("噪音扰民找谁投诉", user_id=3002)
    assert hotline in reply["text"] and "📝《户口迁移怎么办理？》" in reply["text"]


async def test_residents_are_refused_the_queue_and_its_buttons(bot: Harness) -> None:
    await bot.ask(QUESTION)
    assert (await bot.ask("/pending"))["text"] == "抱歉，这个命令只有管理员可以使用。"
    await bot.telegram.press_data(bot.telegram.last_message(), "sa:1", user_id=1001)
    [refused] = await bot.telegram.wait_for("answerCallbackQuery")
    assert refused["text"] == "抱歉，这个命令只有管理员可以使用。"
    assert not bot.app.bot_data["desk"].drafts  # no answer was started


async def test_the_queue_is_never_shown_in_a_group(bot: Harness) -> None:
    await bot.ask(QUESTION)
    await bot.telegram.send_text("/pending", user_id=ADMIN_ID, chat_id=-100)
    [pointer] = await bot.telegram.wait_for("sendMessage")
    assert int(pointer["chat_id"]) == -100
    assert pointer["text"].startswith("管理命令和文章上传只在与我的私聊中使用")
    assert QUESTION not in pointer["text"]
    # A forged queue button under the bot's message in the group does nothing either.
    await bot.telegram.press_data(bot.telegram.last_message(), "sp:0", user_id=ADMIN_ID)
    [answered] = await bot.telegram.wait_for("answerCallbackQuery")
    assert answered["text"].startswith("管理命令和文章上传只在与我的私聊中使用")
    in_group = [m for m in bot.telegram.sent() if int(m["chat_id"]) == -100]
    assert len(in_group) == 1 and not bot.telegram.sent("editMessageText")


async def test_an_admin_writing_an_answer_still_gets_answers_in_a_group(bot: Harness) -> None:
    await bot.ask(QUESTION)
    await press(bot, await pending(bot), "✍️ 回答 1")  # the bot waits for the answer's text
    await bot.telegram.send_text("@linli_test_bot 哪里可以免费量血压", user_id=ADMIN_ID,
                                 chat_id=-100)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert "量血压" in reply["text"] and "预览" not in reply["text"]
    assert (await bot.ask(ANSWER, user_id=ADMIN_ID))["text"].startswith("👀 预览")  # still waiting


async def test_a_pairing_whose_article_changed_is_flagged_and_no_longer_served(
        bot: Harness) -> None:
    first = await bot.ask(PLACE)
    await press(bot, first, "👎 没用", user_id=1001, method="answerCallbackQuery")
    [candidates] = await press(bot, await pending(bot), "🔗 选段落 1")
    chosen = html.unescape(candidates["text"].split("\n2. ")[1].split("\n", 1)[1])[:12]
    await bot.telegram.press(bot.telegram.last_message(), "用第 2 段", ADMIN_ID)
    await bot.telegram.wait_for("sendMessage")
    changed = next(p for p in bot.settings.linli_corpus_dir.glob("*.md")
                   if chosen in p.read_text(encoding="utf-8"))
    changed.write_text(changed.read_text(encoding="utf-8").replace(chosen, chosen + "（更新）"),
                       encoding="utf-8")
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    await bot.telegram.wait_for("sendMessage", count=2)
    line = (await pending(bot))["text"].splitlines()[1]
    assert line.startswith(f"1. {PLACE}（1 次") and "⚠️ 原文已改动" in line
    again = await bot.ask("老年人活动区在哪里", user_id=3001)
    assert html.unescape(again["text"]) == html.unescape(first["text"])  # retrieval again
