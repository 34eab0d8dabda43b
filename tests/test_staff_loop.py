"""The staff loop end to end through the real Application and the fake Bot API:
/pending, 回答 -> preview -> 保存 / 取消, the next resident answered from the staff answer."""

import datetime as dt
from typing import Any

from tests.helpers.harness import ADMIN_ID, Harness
from tests.test_bot_resident import labels

QUESTION = "社区食堂几点开门？"
ANSWER = "社区食堂每天11:00至13:00供应午餐，地点在橡树玫瑰社区服务中心一楼。\n周末和节假日休息。"


async def admin_says(bot: Harness, text: str) -> dict[str, Any]:
    """The admin sends a message; return the bot's one reply."""
    return await bot.ask(text, user_id=ADMIN_ID)


async def press(bot: Harness, message: dict[str, Any], label: str, user_id: int = ADMIN_ID,
                method: str = "sendMessage", count: int = 1) -> list[dict[str, Any]]:
    """Press a button; return the next `count` calls of `method`."""
    await bot.telegram.press(bot.telegram.messages[message["message_id"]], label, user_id)
    return await bot.telegram.wait_for(method, count=count)


async def pending(bot: Harness) -> dict[str, Any]:
    """The admin's /pending page as it stands."""
    sent = await admin_says(bot, "/pending")
    return bot.telegram.messages[sent["message_id"]]


async def write_answer(bot: Harness, number: int, text: str) -> dict[str, Any]:
    """From /pending: 回答 the group numbered `number`, send `text`; return the preview."""
    page = await pending(bot)
    [asked] = await press(bot, page, f"✍️ 回答 {number}")
    assert asked["text"].startswith("✍️ 请发送对")
    preview = await admin_says(bot, text)
    return bot.telegram.messages[preview["message_id"]]


async def save(bot: Harness, preview: dict[str, Any]) -> list[str]:
    """Press 保存 and wait until the bot confirms the pairing; return all texts sent."""
    await bot.telegram.press(preview, "✅ 保存", ADMIN_ID)
    return await bot.telegram.wait_until_sent(
        lambda texts: any(t.startswith("✅ 以后居民问") for t in texts))


async def test_pending_counts_one_question_in_other_words_once_most_asked_first(
        bot: Harness) -> None:
    await bot.ask("游泳馆几点开门？", user_id=2001)
    await bot.ask(QUESTION, user_id=2002)
    await bot.ask("几点开门 社区食堂", user_id=2003)
    await bot.ask("停车场收费吗？", user_id=2004)
    page = await pending(bot)
    lines = page["text"].splitlines()
    assert lines[0].startswith("📋 待答复的问题：共 3 个")
    assert lines[1].startswith("1. 几点开门 社区食堂（2 次")  # the newest wording of the two
    assert lines[2].startswith("2. 停车场收费吗？（1 次")  # then the newest
    assert lines[3].startswith("3. 游泳馆几点开门？（1 次")
    assert labels(page)[0] == ["✍️ 回答 1", "🔗 选段落 1"]
    assert not any(str(user) in page["text"] for user in (2001, 2002, 2003, 2004))


async def test_saved_answer_answers_a_paraphrase_with_its_citation(bot: Harness) -> None:
    assert (await bot.ask(QUESTION))["text"].startswith("抱歉")
    preview = await write_answer(bot, 1, ANSWER)
    assert preview["text"].startswith("👀 预览")
    assert "社区食堂每天11:00至13:00供应午餐" in preview["text"]
    assert f"📝《{QUESTION}》" in preview["text"]
    assert labels(preview) == [["✅ 保存", "✏️ 改标题", "取消"]]
    texts = await save(bot, preview)
    assert any(t.startswith("✅ 重新加载完成") for t in texts)  # the /reload path
    [path] = (bot.settings.linli_corpus_dir / "答复").iterdir()
    written = path.read_text(encoding="utf-8")
    assert f"title: {QUESTION}" in written and "source: 社区服务中心" in written
    assert f"date: '{dt.date.today().isoformat()}'" in written
    reply = await bot.ask("食堂什么时候开门", user_id=3001)  # other words, another resident
    assert "社区食堂每天11:00至13:00供应午餐" in reply["text"]
    assert f"📝《{QUESTION}》" in reply["text"] and "社区服务中心" in reply["text"]
    assert (await pending(bot))["text"] == "✅ 没有待答复的问题。"


async def test_the_title_can_be_edited_before_saving(bot: Harness) -> None:
    await bot.ask(QUESTION)
    preview = await write_answer(bot, 1, ANSWER)
    [asked] = await press(bot, preview, "✏️ 改标题")
    assert asked["text"].startswith(f"现在的标题：{QUESTION}")
    renamed = await admin_says(bot, "社区食堂的开放时间")
    assert "📝《社区食堂的开放时间》" in renamed["text"]
    await save(bot, bot.telegram.messages[renamed["message_id"]])
    [path] = (bot.settings.linli_corpus_dir / "答复").iterdir()
    assert "title: 社区食堂的开放时间" in path.read_text(encoding="utf-8")


async def test_cancel_leaves_nothing(bot: Harness) -> None:
    await bot.ask(QUESTION)
    preview = await write_answer(bot, 1, ANSWER)
    save_data = preview["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    [edit] = await press(bot, preview, "取消", method="editMessageText")
    assert edit["text"] == f"已取消，对“{QUESTION}”的答复没有保存。"
    assert not (bot.settings.linli_corpus_dir / "答复").exists()
    assert "reply_markup" not in bot.telegram.messages[preview["message_id"]]  # buttons gone
    # 保存 pressed anyway (an old client, a forged button) does nothing now.
    await bot.telegram.press_data(preview, save_data, ADMIN_ID)
    [expired] = await bot.telegram.wait_for("answerCallbackQuery")
    assert expired["text"] == "这个操作已经过期，请重新发送 /pending。"
    assert not (bot.settings.linli_corpus_dir / "答复").exists()
    assert (await bot.ask(QUESTION, user_id=3001))["text"].startswith("抱歉")
    # The admin's next message is a question again, not an answer.
    assert "量血压" in (await admin_says(bot, "哪里可以免费量血压"))["text"]
    assert (await pending(bot))["text"].startswith("📋 待答复的问题：共 1 个")


async def test_a_broken_staff_answer_file_keeps_its_last_good_version(bot: Harness) -> None:
    await bot.ask(QUESTION)
    await save(bot, await write_answer(bot, 1, ANSWER))
    [path] = (bot.settings.linli_corpus_dir / "答复").iterdir()
    path.write_text(path.read_text(encoding="utf-8").replace("date: '", "date: '2021-13"),
                    encoding="utf-8")
    await bot.telegram.send_text("/reload", user_id=ADMIN_ID)
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert f"error: 答复/{path.name}:" in report["text"]
    assert "the last good version stays in the index" in report["text"]
    reply = await bot.ask("食堂什么时候开门", user_id=3001)
    assert "社区食堂每天11:00至13:00供应午餐" in reply["text"]


async def test_an_answer_is_removed_from_the_pending_history(bot: Harness) -> None:
    await bot.ask(QUESTION)
    await save(bot, await write_answer(bot, 1, ANSWER))
    page = await pending(bot)
    assert labels(page) == [["📚 已答复"]]
    [history] = await press(bot, page, "📚 已答复")
    assert f"1. {QUESTION} → 📝 工作人员答复 《{QUESTION}》" in history["text"]
    await bot.telegram.press(bot.telegram.last_message(), "🗑 删除 1", ADMIN_ID)
    await bot.telegram.wait_until_sent(
        lambda texts: texts[-1].startswith("✅ 重新加载完成") and "删除（1）" in texts[-1])
    assert not list((bot.settings.linli_corpus_dir / "答复").iterdir())
    assert (await bot.ask(QUESTION, user_id=3001))["text"].startswith("抱歉")


async def test_an_answer_can_be_cancelled_before_its_text_is_sent(bot: Harness) -> None:
    await bot.ask(QUESTION)
    await press(bot, await pending(bot), "✍️ 回答 1")
    [edit] = await press(bot, bot.telegram.messages[max(bot.telegram.messages)], "取消",
                         method="editMessageText")
    assert edit["text"] == f"已取消，对“{QUESTION}”的答复没有保存。"
    assert "量血压" in (await admin_says(bot, "哪里可以免费量血压"))["text"]  # a question again
