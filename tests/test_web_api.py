"""The web page's JSON API: answers, honest no, article, feedback, limits, CSRF, headers."""

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_conversation
from bot.channels.web.api import CONVERSATION_KEY
from bot.channels.web.page import render_page
from bot.records import open_records
from tests.conftest import web_settings
from tests.helpers.web import KEY, WebServer, running_web

A4 = "学党史润初心 办实事解民忧"
BOLD = "吸引李大爷前来下棋的好地方,正是管城区橡树玫瑰社区首个建成的老年人活动区。"
ME = "Zz0-conversation_me"
OTHER = "Zz0-conversation_other"


async def test_ask_returns_passage_bold_citation_and_article_id(web: WebServer) -> None:
    status, body = await web.ask("老年人活动区在哪里？", ME)
    assert status == 200
    assert body["outcome"] == "answered" and body["confidence"] > 0.5
    assert BOLD in body["text"] and body["bold"] == BOLD
    assert body["citation"] == {"title": A4, "section": "社区服务项目化 走深走实顺民意",
                                "source": None, "date": "2021-06", "date_text": "2021年6月",
                                "byline": "记者 柴琳琳 通讯员 黄帅", "url": None}
    assert body["stale"].startswith("这篇报道发表于2021年6月")
    assert body["suggestions"] == [] and body["conversation"] == ME
    status, article = await web.get(f"/api/article/{body['article_id']}")
    assert status == 200 and article["title"] == A4
    headings = [s["heading"] for s in article["sections"]]
    assert "理论宣讲“好声音”持续深刻入民心" in headings


async def test_honest_no_gives_no_passage_and_example_questions_that_work(
        web: WebServer) -> None:
    status, body = await web.ask("怎么办理社保卡", ME)
    assert status == 200 and body["outcome"] == "nothing"
    assert body["text"].startswith("抱歉，现有的报道里没有找到能回答“怎么办理社保卡”的内容")
    assert body["citation"] is None and body["article_id"] is None
    assert len(body["suggestions"]) == 3
    _, example = await web.ask(body["suggestions"][0], ME)
    assert example["outcome"] == "answered" and example["citation"]


async def test_follow_up_uses_the_conversation_context_only(web: WebServer) -> None:
    await web.ask("老年人活动区在哪里？", ME)
    _, follow = await web.ask("有什么设施？", ME)
    assert follow["topic"] == "老年人活动区" and "健身器材" in follow["text"]
    _, other = await web.ask("有什么设施？", OTHER)
    assert other["topic"] is None


async def test_no_conversation_gets_a_new_random_one(web: WebServer) -> None:
    _, first = await web.ask("哪里可以下棋", None)
    _, second = await web.ask("哪里可以下棋", None)
    assert len(first["conversation"]) >= 16 and first["conversation"] != second["conversation"]


async def test_hostile_questions_get_a_clean_reply(web: WebServer) -> None:
    status, empty = await web.ask("   \n\t ", ME)
    assert status == 200 and empty["outcome"] == "empty" and len(empty["suggestions"]) == 3
    status, controls = await web.ask("\x00\x07哪里\x1b可以\x7f下棋\r\n", ME)
    _, clean = await web.ask("哪里可以下棋", OTHER)
    assert status == 200 and controls["outcome"] == clean["outcome"] == "answered"
    assert controls["text"] == clean["text"]
    status, bidi = await web.ask("\u202e怎么办理社保卡\u202c\u2066", ME)
    assert status == 200 and "\u202e" not in bidi["text"] and "\u2066" not in bidi["text"]
    status, long = await web.ask("量血压" * 1300, OTHER)
    assert status == 200 and long["notes"][0].startswith("（问题较长，只按前")
    status, too_long = await web.ask("量" * 5000, OTHER)
    assert status == 413 and "太长" in too_long["error"]
    for bad in ({"question": 5}, {"question": "哪里", "conversation": "../../etc"}, [1, 2]):
        assert (await web.post("/api/ask", bad))[0] == 400
    async with web.session.post(f"{web.url}/api/ask", data=b"{not json",
                                headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
    async with web.session.post(f"{web.url}/api/ask", data=b"x" * 100_000,
                                headers={"Content-Type": "application/json"}) as response:
        assert response.status == 413 and "太长" in (await response.json())["error"]


async def test_cross_site_posts_are_refused(web: WebServer) -> None:
    form = aiohttp.FormData({"question": "哪里可以下棋", "conversation": ME})
    async with web.session.post(f"{web.url}/api/ask", data=form) as response:
        assert response.status == 403
        assert (await response.json())["error"] == "请求的格式不对（请以 application/json 发送）。"
    body = {"question": "哪里可以下棋", "conversation": ME}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        status, refused = await web.post("/api/ask", body, **headers)
        assert status == 403 and refused["error"].startswith("请在本站的问答页面提问")
    assert (await web.post("/api/ask", body, Origin=web.url))[0] == 200


async def test_feedback_only_from_the_asking_conversation(web: WebServer) -> None:
    _, asked = await web.ask("哪里可以下棋", ME)
    vote = {"conversation": ME, "question_id": asked["question_id"], "value": -1}
    status, body = await web.post("/api/feedback", vote)
    assert status == 200 and body["text"] == "谢谢您的反馈 🙏"
    assert (await web.post("/api/feedback", vote | {"conversation": OTHER}))[0] == 403
    assert (await web.post("/api/feedback", vote | {"question_id": 99999}))[0] == 404
    assert (await web.post("/api/feedback", vote | {"value": 5}))[0] == 400
    assert (await web.post("/api/feedback", vote | {"value": True}))[0] == 400


async def test_feedback_on_an_honest_no_is_refused_and_not_stored(web: WebServer) -> None:
    _, asked = await web.ask("怎么办理社保卡", ME)
    assert asked["outcome"] == "nothing" and asked["question_id"]
    vote = {"conversation": ME, "question_id": asked["question_id"], "value": -1}
    assert (await web.post("/api/feedback", vote))[0] != 200
    assert web.app[CONVERSATION_KEY].records.stats(7).thumbs_down == 0


async def test_unknown_article_is_a_clear_404(web: WebServer) -> None:
    status, body = await web.get("/api/article/000000000000")
    assert status == 404 and body["error"].startswith("抱歉，这篇文章已经下架")
    assert (await web.get("/api/article/..%2F..%2Fetc"))[0] == 404


async def test_every_response_has_security_headers_and_a_csp_without_inline_script(
        web: WebServer) -> None:
    for path in ("/", "/static/chat.js", "/api/welcome", "/nothing-here"):
        async with web.session.get(f"{web.url}{path}") as response:
            csp = response.headers["Content-Security-Policy"]
            assert "script-src 'self';" in csp and "unsafe-inline" not in csp
            assert "frame-ancestors 'self'" in csp
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert "Set-Cookie" not in response.headers
    async with web.session.get(f"{web.url}/") as response:
        page = await response.text()
    assert "<script>" not in page and 'src="/static/chat.js"' in page and "//" not in \
        page.split("<body")[1].split("</body>")[0].replace("://", "")
    async with web.session.get(f"{web.url}/embed.js") as response:
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        assert "iframe" in await response.text()


def test_page_escapes_the_example_questions() -> None:
    from string import Template

    page = render_page(Template("$welcome $examples $max_chars $body_class"),
                       ["<script>alert(1)</script>在哪里？"], False)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_one_client_is_rate_limited_another_is_not(web: WebServer) -> None:
    statuses = [(await web.ask("哪里可以下棋", f"{ME}-{i:04d}", client="192.0.2.7"))[0]
                for i in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    async with web.session.post(f"{web.url}/api/ask", json={"question": "哪里", "conversation":
                                ME}, headers={"X-Real-IP": "192.0.2.7"}) as response:
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    assert (await web.ask("哪里可以下棋", OTHER, client="192.0.2.8"))[0] == 200


async def test_deeply_nested_json_is_a_400_and_counts_against_the_client_limit(
        web: WebServer, caplog: pytest.LogCaptureFixture) -> None:
    deep = ("[" * 30_000 + "]" * 30_000).encode()
    headers = {"Content-Type": "application/json", "X-Real-IP": "192.0.2.9"}
    for path in ("/api/ask", "/api/feedback"):
        async with web.session.post(f"{web.url}{path}", data=deep,
                                    headers=headers) as response:
            assert response.status == 400, path
            assert (await response.json())["error"] == "请求的格式不对。"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    statuses = []
    for _ in range(30):
        async with web.session.post(f"{web.url}/api/ask", data=deep,
                                    headers=headers) as response:
            statuses.append(response.status)
    assert statuses[-1] == 429  # refused before its body is parsed


async def test_x_real_ip_from_an_untrusted_peer_is_ignored_with_one_warning(
        corpus_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = web_settings(corpus_dir, tmp_path / "data",
                            linli_web_trusted_proxies="172.17.0.1")  # not the 127.0.0.1 peer
    records = open_records(settings.database_path, KEY)
    conversation = await asyncio.to_thread(open_conversation, settings, records)
    async with running_web(conversation, settings) as web:
        for i in range(3):
            assert (await web.ask("哪里可以下棋", f"{ME}-{i:04d}", client=f"192.0.2.{i}"))[0] \
                == 200
    records.close()
    warnings = [r for r in caplog.records if "LINLI_WEB_TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1 and "docker network inspect" in warnings[0].getMessage()
    assert "192.0.2." not in caplog.text and "127.0.0.1" not in caplog.text


async def test_one_conversation_is_rate_limited_like_a_telegram_user(web: WebServer) -> None:
    statuses = [(await web.ask("哪里可以下棋", ME, client=f"192.0.2.{i}"))[0] for i in range(11)]
    assert statuses == [200] * 10 + [429]
    async with web.session.post(f"{web.url}/api/ask", json={"question": "哪里", "conversation":
                                ME}, headers={"X-Real-IP": "192.0.2.99"}) as response:
        assert response.status == 429 and 0 < int(response.headers["Retry-After"]) <= 61
