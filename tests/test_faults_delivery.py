"""Issue 22, rows 5, 7 and 9: a flood, a kill and a flaky Bot API lose no answer, delay nobody.

In-process against the fake Bot API (a flood, 5xx and 429 retried within a bound) and
against real `linli run` processes (SIGKILL while answers wait, SIGTERM during a flood).
"""

import asyncio
import json
import signal
import time
from pathlib import Path

from tests.helpers.fake_telegram import Failure, FakeTelegram
from tests.helpers.harness import Harness
from tests.test_faults_service import Service
from tests.test_service import service_env

FLOODER, OTHER = 98700777, 98700888
SLOW_DOWN = "您提问有点快了，请稍等一分钟再问。"


def texts_to(telegram: FakeTelegram, chat: int) -> list[str]:
    return [m["text"] for m in telegram.sent() if int(m["chat_id"]) == chat]


async def test_a_flooding_resident_gets_one_notice_and_delays_nobody(bot: Harness) -> None:
    for n in range(1000):
        await bot.telegram.send_text(f"哪里可以下棋{n}", user_id=FLOODER)
    await bot.telegram.send_text("老年人活动区在哪里", user_id=OTHER)
    started = time.monotonic()
    await bot.telegram.wait_until_sent(lambda _: bool(texts_to(bot.telegram, OTHER)), 20)
    assert "📰《" in texts_to(bot.telegram, OTHER)[0]
    waited = time.monotonic() - started
    await asyncio.sleep(1.0)  # whatever the flood still sends has had time to go
    flood = texts_to(bot.telegram, FLOODER)
    assert flood.count(SLOW_DOWN) == 1 and len(flood) == 11, (len(flood), waited)
    conversation = bot.app.bot_data["conversation"]
    assert conversation.records.stats(1).questions == 11 and conversation.dropped == 989


async def test_a_bot_api_502_is_retried_with_backoff_and_the_answer_arrives(
        bot: Harness) -> None:
    bot.telegram.failures.append(Failure("sendMessage", 2, "server"))
    answer = (await bot.ask("老年人活动区在哪里"))["text"]
    assert "📰《" in answer and len(bot.telegram.sent()) == 1


async def test_a_429_that_outlasts_the_rate_limiter_is_retried_too(bot: Harness) -> None:
    bot.telegram.failures.append(Failure("sendMessage", 5, "flood"))  # the limiter retries 3
    await bot.telegram.send_text("老年人活动区在哪里")
    [sent] = await bot.telegram.wait_for("sendMessage", timeout=30)
    assert "📰《" in sent["text"]


async def test_retries_stop_at_the_bound_and_the_answer_stays_owed(bot: Harness) -> None:
    bot.telegram.failures.append(Failure("sendMessage", 1000, "server"))
    records = bot.app.bot_data["conversation"].records
    await bot.telegram.send_text("老年人活动区在哪里")
    for _ in range(200):  # 1 + 2 + 4 s of backoff, then it gives up
        await asyncio.sleep(0.1)
        if bot.app.bot_data.get("outbox") and bot.app.bot_data["outbox"].failed:
            break
    assert bot.app.bot_data["outbox"].failed == 1
    assert bot.telegram.failures[0].times == 1000 - 4  # the first try and three retries
    [owed] = records.owed(600)
    assert "📰《" in owed.text and owed.chat_id == 1001


async def test_answers_owed_at_a_kill_are_sent_after_the_restart_once(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    env = service_env(telegram, corpus_dir, tmp_path / "data")
    residents = [98700100 + n for n in range(5)]
    service = await Service.start(env)
    await telegram.wait_for("deleteWebhook", timeout=60)
    telegram.failures.append(Failure("sendMessage", 100000, "server"))  # nothing gets through
    for question in ("老年人活动区在哪里", "哪里可以免费量血压", "儿童微乐园在哪里",
                     "人大代表联络站在哪里"):
        for resident in residents:
            await telegram.send_text(question, user_id=resident)
    await service.wait_for_line("question answered=", count=20)
    service.process.send_signal(signal.SIGKILL)  # answers computed and owed, none delivered
    await service.process.wait()
    assert telegram.sent() == []
    telegram.failures.clear()

    restarted = await Service.start(env)
    try:
        await telegram.wait_for("sendMessage", count=20, timeout=60)
        await asyncio.sleep(1.0)
        assert len(telegram.sent()) == 20  # each once
        for resident in residents:
            got = texts_to(telegram, resident)
            assert len(got) == 4 and all("📰《" in text for text in got)
        assert any("sent 20 of 20 answers owed" in r["message"] for r in restarted.records())
    finally:
        assert await restarted.stop() == 0, restarted.log
    again = await Service.start(env)  # a clean stop owes nothing: nothing is sent twice
    try:
        await telegram.send_text("老年人活动区在哪里", user_id=residents[0])
        await telegram.wait_for("sendMessage", timeout=30)
        assert len(telegram.sent()) == 21
    finally:
        assert await again.stop() == 0


async def test_sigterm_during_a_flood_and_a_failing_bot_api_stops_within_seconds(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    service = await Service.start(service_env(telegram, corpus_dir, tmp_path / "data"))
    await telegram.wait_for("deleteWebhook", timeout=60)
    telegram.failures.append(Failure("sendMessage", 100000, "server"))  # every send retries
    for n in range(1000):
        await telegram.send_text(f"哪里可以下棋{n}", user_id=FLOODER)
    for n in range(20):
        await telegram.send_text("老年人活动区在哪里", user_id=98700200 + n)
    await service.wait_for_line("question answered=", count=20)
    started = time.monotonic()
    code = await asyncio.wait_for(service.stop(), 30)  # SIGTERM
    stopped = time.monotonic() - started
    assert code == 0, service.log
    # Sends in backoff give up at once (the answers stay owed): one attempt's time, not the
    # 1 + 2 + 4 s of the whole bound.
    assert stopped < 5, stopped
    records = [json.loads(line) for line in service.lines if line.startswith("{")]
    assert not any(r["level"] == "CRITICAL" for r in records)
