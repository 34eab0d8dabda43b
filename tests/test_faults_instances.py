"""Issue 22, row 8: a second `linli run` on one data folder exits at once; rival pollers named."""

import os
from pathlib import Path

from bot.instance import LOCK_FILE
from tests.helpers.fake_telegram import Failure, FakeTelegram
from tests.test_faults_service import Service
from tests.test_service import linli, service_env


async def test_a_second_run_on_the_same_data_folder_names_the_first_and_exits_1(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    env = service_env(telegram, corpus_dir, tmp_path / "data")
    first = await Service.start(env)
    try:
        await telegram.wait_for("deleteWebhook", timeout=60)  # polling has begun
        asked = len(telegram.sent("getMe"))
        code, out, err = await linli(env, "run")
        assert code == 1 and out == ""
        [line] = err.splitlines()
        assert line.startswith(f"error: {tmp_path / 'data'}: another linli run uses this data "
                               f"folder (pid {first.process.pid} on ")
        assert "stop it first" in line and "LINLI_DATA_DIR" in line
        assert len(telegram.sent("getMe")) == asked  # the second never asked Telegram
    finally:
        assert await first.stop() == 0


async def test_a_lock_left_by_a_killed_bot_does_not_stop_the_next(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / LOCK_FILE).write_text(f"pid {os.getpid() + 100000} on elsewhere, started long ago\n",
                                  encoding="utf-8")  # a file, but nobody holds its lock
    service = await Service.start(service_env(telegram, corpus_dir, data))
    try:
        await telegram.wait_for("deleteWebhook", timeout=60)
        await telegram.send_text("老年人活动区在哪里")
        await telegram.wait_for("sendMessage", timeout=30)  # serving: past PTB's bootstrap
        assert f"pid {service.process.pid} on " in (data / LOCK_FILE).read_text(encoding="utf-8")
    finally:
        assert await service.stop() == 0, service.log


async def test_another_poller_on_the_token_is_one_clear_error_line(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    service = await Service.start(service_env(telegram, corpus_dir, tmp_path / "data"))
    try:
        await telegram.wait_for("deleteWebhook", timeout=60)
        await telegram.send_text("老年人活动区在哪里")
        await telegram.wait_for("sendMessage", timeout=30)
        telegram.failures.append(Failure("getUpdates", 2, "conflict"))
        await service.wait_for_line("polling Telegram with this token", timeout=30)
        await telegram.send_text("哪里可以免费量血压")  # polling goes on
        [answer] = await telegram.wait_for("sendMessage", timeout=30)
        assert "📰《" in answer["text"]
    finally:
        assert await service.stop() == 0, service.log
    lines = [r for r in service.records() if "polling Telegram with this token" in r["message"]]
    assert lines and all(r["level"] == "ERROR" for r in lines)
    assert "stop it" in lines[0]["message"] and "Traceback" not in service.log
    assert not any(r["message"] == "error while handling an update" for r in service.records())
