import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.app import build_application, open_conversation
from bot.channels.telegram.webhook import start_webhook, stop_webhook
from bot.run import webhook_options
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import bot_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_accepts_only_telegrams_secret_token(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_WEBHOOK_SECRET", "district-secret-1234567890")
    settings = bot_settings(telegram, corpus_dir, tmp_path / "data")
    port = free_port()
    options = webhook_options(settings, "https://bot.example.org/linli-webhook",
                              f"127.0.0.1:{port}")
    app = build_application(settings, await asyncio.to_thread(open_conversation, settings))
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 1001, "type": "private"},
        "from": {"id": 1001, "is_bot": False, "first_name": "居民"}, "text": "哪里可以下棋"}}
    url = f"http://127.0.0.1:{port}/linli-webhook"
    async with app:
        await app.start()
        server = await start_webhook(app, options)
        try:
            [registered] = telegram.sent("setWebhook")
            assert registered["secret_token"] == "district-secret-1234567890"
            async with aiohttp.ClientSession() as http:
                forged = await http.post(url, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "guess"})
                assert forged.status == 403
                missing = await http.post(url, json=update)
                assert missing.status == 403
                real = await http.post(url, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "district-secret-1234567890"})
                assert real.status == 200
            [reply] = await telegram.wait_for("sendMessage")
            assert "下棋" in reply["text"]
            assert len(telegram.sent()) == 1
        finally:
            await stop_webhook(server)
            await app.stop()
