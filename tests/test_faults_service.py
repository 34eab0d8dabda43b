"""The faults of issue 9 that were seen against a real `linli run`, tried again against one.

`linli` runs as a separate process talking HTTP to the fake Bot API server, with JSON logs.
"""

import asyncio
import json
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fake_telegram import TOKEN, FakeTelegram
from tests.test_service import LINLI, linli, service_env

GOOD = "---\ntitle: 老年食堂开张\ndate: 2021-07\n---\n社区开设了老年食堂，每天中午供应午餐。\n"
NESTED = "---\ntitle: 嵌套\nx: " + "[" * 700 + "]" * 700 + "\n---\n正文。\n"  # 4 KB
ADMIN = 55500111  # ids that cannot turn up in a log line by chance
RESIDENT = 98700123
BUSY_RESIDENT = 98700456


class Service:
    """A `linli run` process whose log lines are read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.lines = process, list[str]()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, env: dict[str, str]) -> "Service":
        process = await asyncio.create_subprocess_exec(
            LINLI, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    async def wait_for_line(self, text: str, count: int = 1, timeout: float = 60) -> None:
        async def seen() -> None:
            while sum(text in line for line in self.lines) < count:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(seen(), timeout)

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 60)
        await self._reader
        return self.process.returncode or 0

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_rejected_token_is_one_line_and_exit_2(telegram: FakeTelegram, corpus_dir: Path,
                                                       tmp_path: Path) -> None:
    wrong = "654321:" + "Zz9_" * 9
    env = service_env(telegram, corpus_dir, tmp_path / "data") | {"TELEGRAM_BOT_TOKEN": wrong}
    code, out, err = await linli(env, "run")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized)")
    assert wrong.split(":")[1] not in err


@pytest.mark.slow
async def test_an_unreachable_bot_api_at_start_is_retried_until_it_answers(
        corpus_dir: Path, tmp_path: Path) -> None:
    telegram = FakeTelegram()
    port = free_port()
    telegram.url = f"http://127.0.0.1:{port}"  # nothing listens there yet
    service = await Service.start(service_env(telegram, corpus_dir, tmp_path / "data"))
    try:
        await service.wait_for_line("the Bot API cannot be reached", count=2)
        await telegram.start(port)
        await telegram.wait_for("deleteWebhook", timeout=60)  # polling has begun
        await telegram.send_text("老年人活动区在哪里")
        [reply] = await telegram.wait_for("sendMessage", timeout=30)
        assert "📰《" in reply["text"]
    finally:
        code = await service.stop()
        await telegram.stop()
    assert code == 0, service.log
    warnings = [r for r in service.records() if "cannot be reached" in r["message"]]
    assert len(warnings) >= 2 and all(r["level"] == "WARNING" for r in warnings)
    assert "retrying in 1 s" in warnings[0]["message"]
    assert "retrying in 2 s" in warnings[1]["message"]
    assert "Traceback" not in service.log and all(line.startswith("{") for line in service.lines)
    assert TOKEN.split(":")[1] not in service.log


@pytest.mark.slow
async def test_the_hostile_trial_holds_against_a_real_process(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (corpus_dir / "嵌套.md").write_text(NESTED, encoding="utf-8")  # 1
    data.mkdir()
    garbled = b"SQLite format 3\x00" + bytes(range(256)) * 40
    (data / "linli.sqlite3").write_bytes(garbled)  # 2
    leftover = data / "index" / ".index-k1ll3d"  # 8
    leftover.mkdir(parents=True)
    (leftover / "vocab.json").write_text("[", encoding="utf-8")
    env = service_env(telegram, corpus_dir, data) | {"LINLI_ADMIN_IDS": str(ADMIN)}
    service = await Service.start(env)
    try:
        await telegram.wait_for("deleteWebhook", timeout=60)  # polling has begun
        [note] = telegram.sent()  # 2: the admins are told, at start
        assert int(note["chat_id"]) == ADMIN and note["text"].startswith("⚠️ 记录数据库无法使用")

        await telegram.send_text("老年人活动区在哪里", user_id=RESIDENT)
        [answer] = await telegram.wait_for("sendMessage")
        assert "📰《" in answer["text"]

        await telegram.send_text("/stats", user_id=ADMIN, chat_id=-100)  # 3
        [pointer] = await telegram.wait_for("sendMessage")
        assert pointer["text"].startswith("管理命令和文章上传只在与我的私聊中使用")

        message = telegram.messages[max(m for m, v in telegram.messages.items()
                                        if v["chat"]["id"] == RESIDENT)]
        for forged in ("v:abc:1", "v:99999:1"):  # 6
            await telegram.press_data(message, forged, user_id=RESIDENT)
            [toast] = await telegram.wait_for("answerCallbackQuery")
            assert toast["text"] == "这个按钮已失效"
        await telegram.press_data(message, "v:1:1", user_id=BUSY_RESIDENT)
        [toast] = await telegram.wait_for("answerCallbackQuery")
        assert toast["text"] == "只有提问的人可以评价这条回答。"

        await telegram.send_document("食堂\u202edm.txt", GOOD.encode(), user_id=ADMIN)  # 7
        [refused] = await telegram.wait_for("sendMessage")
        assert "U+202E" in refused["text"] and not list(corpus_dir.glob("食堂*"))

        for i in range(11):  # 9
            await telegram.send_text(f"哪里可以下棋{i}", user_id=BUSY_RESIDENT)
        await telegram.wait_for("sendMessage", count=11)

        await telegram.send_text("/reload", user_id=ADMIN)  # 1: the good files still load
        [_, report] = await telegram.wait_for("sendMessage", count=2)
        assert report["text"].startswith("✅ 重新加载完成：4 篇文章")
        assert "嵌套.md:3: front matter is nested more than 20 levels deep" in report["text"]

        await telegram.send_text("/stats", user_id=ADMIN)
        [stats] = await telegram.wait_for("sendMessage")
        assert "今天提问：11" in stats["text"]
        assert "已改名保存为 linli.sqlite3.broken-" in stats["text"]
    finally:
        code = await service.stop()
    assert code == 0, service.log
    log, lines = service.log, service.records()
    assert "Traceback" not in log and all(line.startswith("{") for line in service.lines)
    assert [r["message"] for r in lines if "records database" in r["message"]] == [
        next(r["message"] for r in lines if "records database" in r["message"])]
    assert [r["level"] for r in lines if "records database" in r["message"]] == ["ERROR"]
    assert sum(r["message"].startswith("question answered=") for r in lines) == 11
    assert sum(r["message"] == "question not recorded (rate limited)" for r in lines) == 1
    for secret in (str(ADMIN), str(RESIDENT), str(BUSY_RESIDENT), TOKEN.split(":")[1]):
        assert secret not in log
    [aside] = data.glob("linli.sqlite3.broken-*")
    assert aside.read_bytes() == garbled and not leftover.exists()
    code, out, _ = await linli(env, "doctor")
    assert f"warn data: {data} is writable" in out and aside.name in out
