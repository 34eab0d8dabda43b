"""Issue 22, row 9: the webhook checks the secret before the body, caps it, ignores replays.

Raw HTTP over 127.0.0.1, so that a test can send headers and hold the body back: a server
that waits for the body before checking the secret never answers in time.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, open_conversation
from bot.channels.telegram.webhook import MAX_BODY_BYTES, start_webhook, stop_webhook
from bot.run import webhook_options
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import bot_settings
from tests.test_faults_service import Service
from tests.test_service import LINLI, service_env
from tests.test_webhook import free_port

SECRET = "district-secret-1234567890"
PATH = "/linli-webhook"


def update(update_id: int, text: str = "老年人活动区在哪里") -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": 1001, "type": "private"},
        "from": {"id": 1001, "is_bot": False, "first_name": "居民"}, "text": text}}


@pytest.fixture
async def webhook(telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[int]:
    monkeypatch.setenv("LINLI_WEBHOOK_SECRET", SECRET)
    settings = bot_settings(telegram, corpus_dir, tmp_path / "data")
    port = free_port()
    options = webhook_options(settings, "https://bot.example.org" + PATH, f"127.0.0.1:{port}")
    app = build_application(settings, await asyncio.to_thread(open_conversation, settings))
    async with app:
        await app.start()
        server = await start_webhook(app, options)
        try:
            yield port
        finally:
            await stop_webhook(server)
            await app.stop()


async def status_of(port: int, head: str, body: bytes = b"", timeout: float = 5) -> int:
    """Send the request line and headers (and `body`); return the status answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        return int(line.split()[1])
    finally:
        writer.close()


def head(length: int, secret: str | None = SECRET, chunked: bool = False) -> str:
    lines = [f"POST {PATH} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    return "\r\n".join(lines) + "\r\n"


async def test_a_wrong_secret_is_refused_before_the_body_is_read(webhook: int) -> None:
    # 94 MB announced, not one byte of it sent: the answer comes from the headers alone.
    for secret in ("guess", None, ""):
        assert await status_of(webhook, head(94 * 2**20, secret)) == 403


async def test_a_body_over_the_cap_is_refused_unread(webhook: int) -> None:
    assert await status_of(webhook, head(MAX_BODY_BYTES + 1)) == 413
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20))
    assert await status_of(webhook, head(0, chunked=True), chunks) in (400, 413)


async def test_malformed_json_is_400_and_no_critical_line(
        webhook: int, caplog: pytest.LogCaptureFixture) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"update_id": "x"}', b"\xff\xfe"):
        assert await status_of(webhook, head(len(body)), body) == 400
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_a_replayed_update_is_answered_once(webhook: int, telegram: FakeTelegram) -> None:
    body = json.dumps(update(7)).encode()
    for _ in range(3):
        assert await status_of(webhook, head(len(body)), body) == 200
    # The answer may be sent already: wait on what was sent, not for one more.
    await telegram.wait_until_sent(lambda texts: len(texts) >= 1)
    fresh = json.dumps(update(8, "哪里可以免费量血压")).encode()
    assert await status_of(webhook, head(len(fresh)), fresh) == 200
    await telegram.wait_until_sent(lambda texts: len(texts) >= 2)
    await asyncio.sleep(0.5)
    assert len(telegram.sent()) == 2


async def test_linli_run_serves_the_guarded_webhook_and_stops_on_sigterm(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = service_env(telegram, corpus_dir, tmp_path / "data") | {"LINLI_WEBHOOK_SECRET": SECRET}
    process = await asyncio.create_subprocess_exec(
        LINLI, "run", "--webhook", "https://bot.example.org" + PATH, "--listen",
        f"127.0.0.1:{port}", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    service = Service(process)
    try:
        [registered] = await telegram.wait_for("setWebhook", timeout=60)
        assert registered["secret_token"] == SECRET
        assert await status_of(port, head(94 * 2**20, "guess")) == 403
        body = json.dumps(update(41)).encode()
        for _ in range(2):
            assert await status_of(port, head(len(body)), body) == 200
        [answer] = await telegram.wait_until_sent(lambda texts: len(texts) >= 1)
        assert "📰《" in answer
    finally:
        code = await asyncio.wait_for(service.stop(), 30)
    assert code == 0, service.log
    assert len(telegram.sent()) == 1 and "Traceback" not in service.log
