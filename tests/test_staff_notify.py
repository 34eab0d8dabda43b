"""有答复时通知我: who is told (each resident who asked, once, nobody else) and how long
their chat id is kept (until notified, or LINLI_NOTIFY_DAYS)."""

import asyncio
import time
from pathlib import Path

from bot.records import Records
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import ADMIN_ID, Harness, bot_settings, running_bot
from tests.test_bot_resident import labels
from tests.test_staff_loop import ANSWER, QUESTION, pending, press, save, write_answer

NOTIFY = "🔔 有答复时通知我"


def kept_chat_ids(bot: Harness) -> list[int]:
    """The chat ids the records hold for notifications."""
    records: Records = bot.app.bot_data["conversation"].records
    return sorted(r[0] for r in records.run(
        lambda db: db.execute("SELECT chat_id FROM subscriptions").fetchall()))


async def subscribe(bot: Harness, question: str, user_id: int) -> str:
    """A resident asks, gets no answer, presses 🔔; return the bot's one-line reply."""
    reply = await bot.ask(question, user_id=user_id)
    assert [NOTIFY] in labels(reply)
    [said] = await press(bot, reply, NOTIFY, user_id=user_id)
    return str(said["text"])


async def test_each_resident_who_asked_is_told_once_and_nobody_else(bot: Harness) -> None:
    said = await subscribe(bot, QUESTION, 2001)
    assert "\n" not in said and "只保存您的聊天编号" in said and "30 天后即删除" in said
    await subscribe(bot, "几点开门 社区食堂", 2002)  # the same question in other words
    await bot.ask(QUESTION, user_id=2003)  # asked, did not press
    await subscribe(bot, "停车场收费吗？", 2004)  # another question
    assert kept_chat_ids(bot) == [2001, 2002, 2004]
    await save(bot, await write_answer(bot, 1, ANSWER))
    told = await bot.telegram.wait_until_sent(
        lambda texts: sum(t.startswith("🔔 您之前问过") for t in texts) >= 2)
    notes = [m for m in bot.telegram.sent() if m["text"].startswith("🔔 您之前问过")]
    assert sorted(int(m["chat_id"]) for m in notes) == [2001, 2002]
    assert "社区食堂每天11:00至13:00供应午餐" in notes[0]["text"]
    assert f"📝《{QUESTION}》" in notes[0]["text"]
    assert any("已通知 2 位等待答复的居民" in t for t in told)
    assert kept_chat_ids(bot) == [2004]  # deleted after notifying; the other stays
    # A 👎 on the staff answer queues the group again; answering it again tells nobody twice.
    again = await bot.ask(QUESTION, user_id=2005)
    await press(bot, again, "👎 没用", user_id=2005, method="answerCallbackQuery")
    page = await pending(bot)
    await press(bot, page, "🔗 选段落 1")
    await bot.telegram.press(bot.telegram.last_message(), "用第 1 段", ADMIN_ID)
    [done] = await bot.telegram.wait_for("sendMessage")
    assert done["text"].startswith("✅ 以后居民问") and "已通知" not in done["text"]
    assert sum(t.startswith("🔔 您之前问过") for t in bot.telegram.sent_texts()) == 2


async def test_no_notify_button_in_a_group(bot: Harness) -> None:
    await bot.telegram.send_text(f"/ask {QUESTION}", user_id=2001, chat_id=-100)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"].startswith("抱歉")
    assert NOTIFY not in str(reply.get("reply_markup"))


async def test_only_the_asker_can_subscribe(bot: Harness) -> None:
    reply = await bot.ask(QUESTION, user_id=2001)
    [refused] = await press(bot, reply, NOTIFY, user_id=2002, method="answerCallbackQuery")
    assert refused["text"] == "只有提问的人可以登记答复通知。"
    assert kept_chat_ids(bot) == []


async def test_chat_ids_are_deleted_after_the_expiry(telegram: FakeTelegram, corpus_dir: Path,
                                                     tmp_path: Path) -> None:
    settings = bot_settings(telegram, corpus_dir, tmp_path / "data")
    async with running_bot(telegram, settings) as bot:
        await subscribe(bot, QUESTION, 2001)
        await subscribe(bot, "停车场收费吗？", 2002)
        old = time.time() - 31 * 86400
        records: Records = bot.app.bot_data["conversation"].records
        records.run(lambda db: db.execute("UPDATE subscriptions SET at=? WHERE chat_id=2001",
                                          (old,)))
    # A restart deletes what expired (then hourly), before anyone answers anything.
    async with running_bot(telegram, settings) as again:
        for _ in range(100):  # the purge runs off the event loop at start
            if kept_chat_ids(again) == [2002]:
                break
            await asyncio.sleep(0.05)
        assert kept_chat_ids(again) == [2002]
        await save(again, await write_answer(again, 2, ANSWER))
        assert not any(t.startswith("🔔 您之前问过") for t in again.telegram.sent_texts())
