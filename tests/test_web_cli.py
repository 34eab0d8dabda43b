"""`linli web` and `linli run --web`: defaults, errors, a real process stopped cleanly."""

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.cli import build_parser, main
from tests.helpers import fake_wechat
from tests.helpers.articles import write_article
from tests.helpers.fake_telegram import TOKEN
from tests.test_channels_agree import free_port, wait_until_serving
from tests.test_service import LINLI


def test_defaults_are_localhost_8080() -> None:
    web = build_parser().parse_args(["web"])
    assert (web.host, web.port) == ("127.0.0.1", 8080)
    assert build_parser().parse_args(["run", "--web"]).web == "127.0.0.1:8080"
    assert build_parser().parse_args(["run"]).web is None


def test_a_malformed_wechat_key_stops_linli_web_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_WECHAT_TOKEN", fake_wechat.TOKEN)
    monkeypatch.setenv("LINLI_WECHAT_AES_KEY", "too-short")
    assert main(["web"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: LINLI_WECHAT_AES_KEY: is not an EncodingAESKey")
    assert "too-short" not in err  # a secret, even a wrong one, is not echoed


def test_run_with_a_bad_web_address_says_how_to_write_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(["run", "--web", "8080"]) == 2
    assert "--web '8080' is not HOST:PORT; write e.g. 127.0.0.1:8080" in capsys.readouterr().err


def test_a_port_in_use_is_not_reported_as_serving(
        corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("LINLI_DATA_DIR", str(tmp_path / "data"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["web", "--port", str(port)]) != 0
    err = capsys.readouterr().err  # main() logs to stderr
    assert "stopped" in err or "error" in err.lower() or "Errno" in err, err
    assert "serving the web page" not in err


@pytest.mark.slow
async def test_linli_web_serves_without_a_token_and_stops_on_sigterm(
        corpus_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "LINLI_CORPUS_DIR": str(corpus_dir),
           "LINLI_DATA_DIR": str(tmp_path / "data"), "LINLI_WECHAT_TOKEN": fake_wechat.TOKEN}
    process = await asyncio.create_subprocess_exec(
        LINLI, "web", "--port", str(port), env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        await wait_until_serving(f"http://127.0.0.1:{port}/")
        async with fake_wechat.FakeWeChat(f"http://127.0.0.1:{port}/wechat",
                                          safe=False) as wechat:  # Token only: plain mode
            reply = await wechat.send_text("oOpenIdCli", "老年人活动区在哪里？")
        assert "【" in reply.content
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    log = err.decode()
    assert process.returncode == 0, log
    assert f"serving the web page on http://127.0.0.1:{port}/ and WeChat on /wechat" in log
    assert fake_wechat.TOKEN not in log and "oOpenIdCli" not in log
    assert (tmp_path / "data" / "heartbeat").exists()  # `linli health` works for it too


def test_wechat_secrets_are_secret_strings_and_redacted_from_logs() -> None:
    from bot.settings import load_settings

    settings = load_settings(linli_wechat_token=fake_wechat.TOKEN,
                             linli_wechat_app_id=fake_wechat.APP_ID,
                             linli_wechat_aes_key=fake_wechat.AES_KEY)
    assert fake_wechat.TOKEN not in repr(settings) and fake_wechat.AES_KEY not in repr(settings)
    assert {fake_wechat.TOKEN, fake_wechat.AES_KEY} <= set(settings.secrets())


def test_half_of_safe_mode_stops_linli_web_naming_the_missing_setting(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LINLI_WECHAT_TOKEN", fake_wechat.TOKEN)
    monkeypatch.setenv("LINLI_WECHAT_AES_KEY", fake_wechat.AES_KEY)
    assert main(["web"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: LINLI_WECHAT_APP_ID is not set: safe mode needs both")


@pytest.mark.slow
async def test_linli_web_reloads_the_corpus_on_sighup(corpus_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "LINLI_CORPUS_DIR": str(corpus_dir),
           "LINLI_DATA_DIR": str(tmp_path / "data"), "LINLI_USER_KEY": "k" * 32}
    process = await asyncio.create_subprocess_exec(
        LINLI, "web", "--port", str(port), env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    question = {"question": "游泳馆几点开门？"}
    try:
        await wait_until_serving(f"http://127.0.0.1:{port}/")
        async with aiohttp.ClientSession() as http:
            async def outcome() -> str:
                async with http.post(f"http://127.0.0.1:{port}/api/ask",
                                     json=question) as response:
                    return str((await response.json())["outcome"])

            assert await outcome() == "nothing"
            write_article(corpus_dir, "pool.md", title="社区游泳馆开放", date="2026-11-02",
                          body="社区游泳馆每天早上八点开门，晚上九点关门，居民凭卡入场。")
            process.send_signal(signal.SIGHUP)
            for _ in range(100):
                if await outcome() == "answered":
                    break
                await asyncio.sleep(0.2)
            assert await outcome() == "answered"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "SIGHUP: reloaded the corpus" in err.decode()
