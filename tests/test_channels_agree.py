"""One question, four doors: Telegram, `linli chat`, the web page and WeChat agree.

`linli run --web` serves Telegram (a fake Bot API server), the page and WeChat from one
process, as the README says; `linli chat` runs beside it in the terminal.
"""

import asyncio
import html
import re
import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import fake_wechat
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.fake_wechat import FakeWeChat
from tests.test_service import LINLI, service_env

QUESTION = "老年人活动区在哪里？"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def citation_lines(text: str) -> list[str]:
    """The citation block: the 📰《title》 line and the indented lines under it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("📰《"))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("　"):
            break
        block.append(line)
    return block


def marked(text: str, start: str, end: str) -> tuple[str, str]:
    """(the bold sentence, the text without the marks)."""
    bold = re.search(re.escape(start) + "(.+?)" + re.escape(end), text, re.S)
    assert bold, text
    return bold[1], text.replace(start, "").replace(end, "")


async def wait_until_serving(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.mark.slow
async def test_same_question_same_passage_and_citation_in_all_four_channels(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = service_env(telegram, corpus_dir, tmp_path / "data") | {
        "LINLI_WECHAT_TOKEN": fake_wechat.TOKEN, "LINLI_WECHAT_APP_ID": fake_wechat.APP_ID,
        "LINLI_WECHAT_AES_KEY": fake_wechat.AES_KEY}
    process = await asyncio.create_subprocess_exec(
        LINLI, "run", "--web", f"127.0.0.1:{port}", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await telegram.wait_for("deleteWebhook", timeout=60)
        url = f"http://127.0.0.1:{port}"
        await wait_until_serving(f"{url}/api/welcome")

        await telegram.send_text(QUESTION)
        [sent] = await telegram.wait_for("sendMessage", timeout=30)
        tg_bold, tg_text = marked(html.unescape(sent["text"]), "<b>", "</b>")

        async with aiohttp.ClientSession() as session, \
                session.post(f"{url}/api/ask", json={"question": QUESTION}) as response:
            page = await response.json()
        async with FakeWeChat(f"{url}/wechat") as wechat:
            wx = await wechat.send_text("oOpenIdFour", QUESTION, encrypted=True)
        wx_bold, wx_text = marked(wx.content, "【", "】")

        chat = await asyncio.create_subprocess_exec(
            LINLI, "chat", env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(chat.communicate(f"{QUESTION}\n".encode()), 120)
        answer = out.decode().split(f"> {QUESTION}\n", 1)[1]
        chat_bold, chat_text = marked(answer, "**", "**")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()

    citation = page["citation"]
    details = " · ".join(x for x in (citation["source"], citation["date_text"],
                                     citation["byline"]) if x)
    page_lines = [f"📰《{citation['title']}》", f"　{citation['section']}", f"　{details}"]
    assert page["bold"] == tg_bold == wx_bold == chat_bold
    assert page_lines == citation_lines(tg_text) == citation_lines(wx_text) == \
        citation_lines(chat_text)
    for text in (tg_text, wx_text, chat_text):
        assert page["text"] in text
    log = err.decode()
    assert "serving the web page on http://127.0.0.1" in log
    assert fake_wechat.TOKEN not in log and fake_wechat.AES_KEY not in log  # never logged
