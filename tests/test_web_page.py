"""The chat page in a real headless Chromium: what a resident sees and does, keyboard included.

Set LINLI_SCREENSHOTS=DIR to keep the phone and desktop screenshots (the README's).
"""

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import open_conversation
from bot.channels.web.api import CONVERSATION_KEY
from bot.records import open_records
from tests.conftest import web_settings
from tests.helpers.articles import write_article
from tests.helpers.browser import Page, browser
from tests.helpers.web import KEY, WebServer, running_web
from tests.test_channels_agree import free_port

A4 = "学党史润初心 办实事解民忧"
BOLD = "吸引李大爷前来下棋的好地方,正是管城区橡树玫瑰社区首个建成的老年人活动区。"
REPLIES = "document.querySelectorAll('#log .reply').length"


async def ask(page: Page, question: str) -> None:
    """Type a question and send it with the 提问 button, as a tapping resident does."""
    before = await page.js(REPLIES)
    await page.js(f"document.getElementById('question').value = {question!r}")
    await page.js("document.querySelector('#ask button[type=submit]').click()")
    await page.wait_for(f"{REPLIES} > {before}")


def reply_js(index: int, expression: str) -> str:
    return f"(r => {expression})(document.querySelectorAll('#log .reply')[{index}])"


async def click(page: Page, index: int, label: str) -> None:
    await page.js(reply_js(index, f"[...r.querySelectorAll('button')].find(b => "
                                  f"b.textContent === {label!r}).click()"))


def keep(shot: Path, name: str) -> None:
    folder = os.environ.get("LINLI_SCREENSHOTS")
    if folder:
        Path(folder, name).write_bytes(shot.read_bytes())


@pytest.mark.slow
async def test_three_questions_follow_up_full_text_and_thumbs_down(
        web: WebServer, tmp_path: Path) -> None:
    async with browser() as page:
        await page.open(web.url + "/")
        assert await page.js("document.documentElement.lang") == "zh-CN"
        assert await page.js("document.querySelectorAll('header .suggestion').length") == 3
        await ask(page, "老年人活动区在哪里？")
        assert await page.js(reply_js(0, "r.querySelector('.passage strong').textContent")) \
            == BOLD
        assert BOLD in await page.js(reply_js(0, "r.querySelector('.passage').textContent"))
        # The passage's paragraphs are shown on their own lines, as Telegram and WeChat do.
        _, asked = await web.ask("老年人活动区在哪里？", "x" * 22)
        assert "\n" in asked["text"]
        shown = await page.js(reply_js(0, "r.querySelector('.passage').innerText"))
        assert shown.split("\n") == asked["text"].split("\n")
        citation = await page.js(reply_js(0, "r.querySelector('.citation').innerText"))
        assert citation.splitlines() == [f"《{A4}》", "社区服务项目化 走深走实顺民意",
                                         "2021年6月 · 记者 柴琳琳 通讯员 黄帅"]
        assert (await page.js(reply_js(0, "r.querySelector('.stale').textContent"))
                ).startswith("这篇报道发表于2021年6月")

        await ask(page, "有什么设施？")  # a follow-up
        assert await page.js(reply_js(1, "r.querySelector('.topic').textContent")) == \
            "关于“老年人活动区”："
        assert "健身器材" in await page.js(reply_js(1, "r.querySelector('.passage').textContent"))

        await ask(page, "怎么办理社保卡")  # the honest no, with examples as buttons
        honest = await page.js(reply_js(2, "r.querySelector('.honest').textContent"))
        assert honest.startswith("抱歉，现有的报道里没有找到能回答“怎么办理社保卡”的内容")
        assert await page.js(reply_js(2, "r.querySelectorAll('.suggestions button').length")) \
            == 3
        assert await page.js(reply_js(2, "r.querySelector('.citation')")) is None
        await page.js(reply_js(2, "r.querySelector('.suggestions button').click()"))
        await page.wait_for(f"{REPLIES} === 4")
        assert await page.js(reply_js(3, "!!r.querySelector('.passage strong')"))

        await click(page, 0, "📖 阅读全文")
        await page.wait_for(reply_js(0, "r.querySelector('.article h3')"))
        assert await page.js(reply_js(0, "r.querySelector('.article h3').textContent")) == \
            f"《{A4}》"
        assert await page.js(reply_js(0, "[...r.querySelectorAll('button')].find(b => "
                                         "b.textContent === '📖 阅读全文')"
                                         ".getAttribute('aria-expanded')")) == "true"
        assert "社区党委书记朱光表示" in await page.js(reply_js(0, "r.querySelector('.article')"
                                                               ".textContent"))
        await click(page, 0, "👎 没用")
        await page.wait_for(reply_js(0, "r.querySelector('.thanks')"))
        assert await page.js(reply_js(0, "r.querySelector('.thanks').textContent")) == \
            "谢谢您的反馈 🙏"
        conversation = web.app[CONVERSATION_KEY]
        stats = await asyncio.to_thread(conversation.records.stats, 7)
        assert (stats.questions, stats.thumbs_down) == (5, 1)  # 4 on the page, 1 by the API
        assert page.errors() == []  # no CSP violation, no script error

        await page.screenshot(tmp_path / "desktop.png", 1280)
        keep(tmp_path / "desktop.png", "web-desktop.png")
        await click(page, 0, "📖 阅读全文")  # folded again: the phone shot shows the replies
        await page.resize(390, 844, mobile=True)
        await page.js("window.scrollTo(0, 0)")
        await page.screenshot(tmp_path / "phone.png", 390, mobile=True, height=844)
        keep(tmp_path / "phone.png", "web-phone.png")
        assert (tmp_path / "phone.png").stat().st_size > 10_000


@pytest.mark.slow
async def test_an_article_holding_script_is_shown_as_text(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    write_article(corpus, "notice.md", title="<b>社区</b>通知", date="2026-11-02",
                  body=f"居民议事厅设在社区服务中心二楼。{hostile}\n\n"
                       f"议事厅每周三下午开放，欢迎居民参加。{hostile}")
    settings = web_settings(corpus, tmp_path / "data")
    records = open_records(settings.database_path, KEY)
    conversation = await asyncio.to_thread(open_conversation, settings, records)
    async with running_web(conversation, settings) as web, browser() as page:
        await page.open(web.url + "/")
        await ask(page, "居民议事厅在哪里？")
        await click(page, 0, "📖 阅读全文")
        await page.wait_for(reply_js(0, "r.querySelector('.article h3')"))
        text = await page.js(reply_js(0, "r.textContent"))
        assert "<script>window.pwned = 1</script>" in text and "《<b>社区</b>通知》" in text
        assert await page.js("typeof window.pwned") == "undefined"
        assert await page.js("document.querySelectorAll('#log script, #log img, #log b')"
                             ".length") == 0
    records.close()


@pytest.mark.slow
async def test_keyboard_only_ask_open_the_article_and_vote(web: WebServer) -> None:
    async with browser() as page:
        await page.open(web.url + "/", 390, 844, mobile=True)
        assert await page.js("document.activeElement.id") == "question"
        await page.type("老年人活动区在哪里？")
        await page.press("Enter")
        await page.wait_for(f"{REPLIES} === 1")
        assert await page.js("document.activeElement.id") == "question"  # ready for the next
        await page.tab_to("📖 阅读全文", shift=True)
        await page.press("Enter")
        await page.wait_for("document.activeElement.tagName === 'H3'")
        assert await page.focused_label() == f"《{A4}》"
        await page.tab_to("👎 没用", shift=True)
        await page.press(" ")
        await page.wait_for(reply_js(0, "r.querySelector('.thanks')"))
        assert await page.js("document.getElementById('status').textContent") == \
            "谢谢您的反馈 🙏"
        # The live region announces replies; every control has a name.
        assert await page.js("document.getElementById('log').getAttribute('aria-live')") == \
            "polite"
        assert await page.js("document.querySelector('label[for=question]').textContent") == \
            "您的问题"
        await page.tab_to("提问", most=5)  # from the reply, forward to the form again
        assert page.errors() == []


DISTRICT_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>管城区人民政府</title></head><body><h1>管城区人民政府</h1><p>政务公开……</p>
<script src="{linli}/embed.js" async></script></body></html>"""


async def no_icon(_: web.Request) -> web.Response:
    return web.Response(status=204)


async def district_site(linli: str) -> tuple[web.AppRunner, str]:
    """Another origin: the district's site, with the one embed line in its page."""
    async def page(_: web.Request) -> web.Response:
        return web.Response(text=DISTRICT_PAGE.format(linli=linli), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/favicon.ico", no_icon)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.mark.slow
@pytest.mark.parametrize("allowed", [True, False], ids=["site allowed", "not allowed"])
async def test_one_line_embed_opens_the_page_on_the_districts_site(
        corpus_dir: Path, tmp_path: Path, allowed: bool) -> None:
    linli_port = free_port()
    linli = f"http://127.0.0.1:{linli_port}"
    runner, district = await district_site(linli)
    origins = f"'self' {district}" if allowed else "'self'"
    settings = web_settings(corpus_dir, tmp_path / "data", linli_web_embed_origins=origins)
    records = open_records(settings.database_path, KEY)
    conversation = await asyncio.to_thread(open_conversation, settings, records)
    try:
        async with running_web(conversation, settings, port=linli_port), browser() as page:
            await page.open(district + "/")
            await page.send("Emulation.setFocusEmulationEnabled", enabled=True)  # as if shown
            await page.wait_for("document.querySelector('button[aria-controls]')")
            await page.js("document.querySelector('button[aria-controls]').click()")
            assert await page.js("document.querySelector('iframe').hidden") is False
            assert await page.js("document.querySelector('button[aria-controls]')"
                                 ".getAttribute('aria-expanded')") == "true"
            await asyncio.sleep(1.0)  # the frame loads
            frame = await page.frame_context("/?embed=1")
            if not allowed:  # the browser refuses to show linli in another site's frame
                assert frame is None  # the frame holds Chromium's error page instead
                assert any("frame-ancestors" in e for e in page.errors()), page.errors()
                return
            assert frame is not None
            await page.wait_for("document.readyState === 'complete'")
            assert await page.js("document.body.className", frame) == "embedded"
            # Opening it puts the focus in the question box (not on the frame: 5 Tabs away).
            await page.wait_for("document.activeElement.tagName === 'IFRAME'")
            focused = "document.hasFocus() && document.activeElement.id"
            for _ in range(50):
                if await page.js(focused, frame) == "question":
                    break
                await asyncio.sleep(0.1)
            assert await page.js(focused, frame) == "question"
            await page.js("document.getElementById('question').value = '哪里可以下棋';"
                          "document.querySelector('#ask button[type=submit]').click()", frame)
            for _ in range(100):
                if await page.js("!!document.querySelector('#log .passage strong')", frame):
                    break
                await asyncio.sleep(0.1)
            assert await page.js("document.querySelector('#log .citation .title')"
                                 ".textContent", frame) == f"《{A4}》"
            assert page.errors() == []
    finally:
        await runner.cleanup()
        records.close()
