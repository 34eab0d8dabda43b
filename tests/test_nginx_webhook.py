"""The webhook behind the nginx site of deploy/, for real: nginx (TLS) -> linli -> fake Telegram."""

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from bot.app import build_application, open_conversation
from bot.channels.telegram.webhook import start_webhook, stop_webhook
from bot.run import webhook_options
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import bot_settings
from tests.test_deploy import nginx_test_config
from tests.test_webhook import free_port

SECRET = "district-secret-1234567890"
UPDATE = {"update_id": 1, "message": {
    "message_id": 1, "date": 0, "chat": {"id": 1001, "type": "private"},
    "from": {"id": 1001, "is_bot": False, "first_name": "居民"}, "text": "哪里可以下棋"}}


async def wait_for_port(port: int, nginx: subprocess.Popen[str]) -> None:
    for _ in range(100):
        assert nginx.poll() is None, nginx.communicate()[1]
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise AssertionError(f"nginx never listened on {port}")


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                    reason="needs nginx and openssl (apt-get install nginx openssl)")
async def test_webhook_through_the_nginx_site_answers_only_with_the_secret(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_WEBHOOK_SECRET", SECRET)
    https_port, http_port, linli_port = free_port(), free_port(), free_port()
    conf = nginx_test_config(tmp_path, {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "proxy_pass http://127.0.0.1:8443;": f"proxy_pass http://127.0.0.1:{linli_port};"})
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g",
                              "daemon off; master_process off;"],
                             stderr=subprocess.PIPE, text=True)
    settings = bot_settings(telegram, corpus_dir, tmp_path / "data")
    options = webhook_options(settings, "https://bot.example.org/linli-webhook",
                              f"127.0.0.1:{linli_port}")
    app = build_application(settings, await asyncio.to_thread(open_conversation, settings))
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # self-signed
    url = f"https://127.0.0.1:{https_port}/linli-webhook"
    try:
        await wait_for_port(https_port, nginx)
        async with app:
            await app.start()
            server = await start_webhook(app, options)
            try:
                async with aiohttp.ClientSession() as http:
                    statuses = []
                    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"},
                                    {"X-Telegram-Bot-Api-Secret-Token": SECRET}):
                        async with http.post(url, json=UPDATE, headers=headers,
                                             ssl=insecure) as response:
                            statuses.append(response.status)
                    async with http.post(f"https://127.0.0.1:{https_port}/other",
                                         ssl=insecure) as response:
                        assert response.status == 404  # only the webhook path is served
                assert statuses == [403, 403, 200]
                # The answer may already be sent by now: wait on what was sent, not for more.
                texts = await telegram.wait_until_sent(lambda texts: len(texts) >= 1)
                assert len(texts) == 1 and "📰《" in texts[0]
            finally:
                await stop_webhook(server)
                await app.stop()
    finally:
        nginx.terminate()
        nginx.communicate(timeout=10)  # and close its stderr pipe
