"""The web page and WeChat behind deploy/'s nginx snippet, for real: nginx (TLS) -> linli."""

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_conversation
from bot.records import open_records
from tests.conftest import web_settings
from tests.helpers.fake_wechat import FakeWeChat
from tests.helpers.web import KEY, running_web
from tests.test_deploy import DEPLOY, nginx_test_config
from tests.test_nginx_webhook import wait_for_port
from tests.test_webhook import free_port


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                    reason="needs nginx and openssl (apt-get install nginx openssl)")
async def test_page_api_and_wechat_through_the_nginx_snippet(
        corpus_dir: Path, tmp_path: Path) -> None:
    https_port, http_port = free_port(), free_port()
    settings = web_settings(corpus_dir, tmp_path / "data")
    records = open_records(settings.database_path, KEY)
    conversation = await asyncio.to_thread(open_conversation, settings, records)
    async with running_web(conversation, settings) as web:
        linli_port = web.url.rsplit(":", 1)[1]
        snippet = (DEPLOY / "nginx" / "linli-web.conf").read_text(encoding="utf-8")
        assert snippet.count("proxy_pass http://127.0.0.1:8080;") == 5
        (tmp_path / "linli-web.conf").write_text(
            snippet.replace(":8080;", f":{linli_port};"), encoding="utf-8")
        conf = nginx_test_config(tmp_path, {
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "# include snippets/linli-web.conf;": f"include {tmp_path / 'linli-web.conf'};"},
            access_log=str(tmp_path / "access.log"))
        nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g",
                                  "daemon off; master_process off;"],
                                 stderr=subprocess.PIPE, text=True)
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # self-signed
        site = f"https://127.0.0.1:{https_port}"
        try:
            await wait_for_port(https_port, nginx)
            connector = aiohttp.TCPConnector(ssl=insecure)
            async with aiohttp.ClientSession(connector=connector) as http:
                for path in ("/", "/static/chat.js", "/embed.js"):
                    async with http.get(site + path) as response:
                        assert response.status == 200, path
                        assert "Content-Security-Policy" in response.headers
                # The browser's Origin is the site with its port: nginx passes the Host so.
                async with http.post(f"{site}/api/ask", json={"question": "哪里可以下棋"},
                                     headers={"Origin": site}) as response:
                    assert response.status == 200
                    assert (await response.json())["outcome"] == "answered"
                async with http.get(f"{site}/linli-webhook-not") as response:
                    assert response.status == 404
            async with FakeWeChat(f"{site}/wechat", ssl=insecure) as wechat:
                reply = await wechat.send_text("oOpenIdNginx", "老年人活动区在哪里？",
                                               encrypted=True)
            assert reply.status == 200 and "【" in reply.content
            # nginx logs by default; the snippet keeps the page's, API's and WeChat's
            # requests (the address, WeChat's signed query and openid) out of the log.
            logged = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
            assert logged and all("/linli-webhook-not" in line for line in logged), logged
        finally:
            nginx.terminate()
            nginx.communicate(timeout=10)
    records.close()
