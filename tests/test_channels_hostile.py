"""The web API and WeChat under a flood, and what they keep: no address, no raw id."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest

from tests.helpers.fake_wechat import FakeWeChat
from tests.helpers.web import WebServer

T = TypeVar("T")
FLOOD = 1000
CONCURRENT = 50  # the flooding client's connections at once


async def flood(count: int, request: Callable[[], Awaitable[int]]) -> list[int]:
    """Send `count` requests, CONCURRENT at a time; return their statuses."""
    gate = asyncio.Semaphore(CONCURRENT)
    statuses: list[int] = []

    async def one() -> None:
        async with gate:
            statuses.append(await request())

    await asyncio.gather(*(one() for _ in range(count)))
    return statuses


async def timed(coroutine: Awaitable[T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = await coroutine
    return time.perf_counter() - started, result


@pytest.mark.slow
async def test_web_flood_from_one_client_leaves_another_answered_within_2_s(
        web: WebServer) -> None:
    answered: list[int] = []

    async def flooder() -> int:
        async with web.session.post(f"{web.url}/api/ask", json={
                "question": "哪里可以下棋", "conversation": "F" * 22},
                headers={"X-Real-IP": "192.0.2.66"}) as response:
            await response.read()
            answered.append(response.status)
            return response.status

    flooding = asyncio.ensure_future(flood(FLOOD, flooder))
    while len(answered) < 2 * CONCURRENT:  # the flood is under way (429s are quick to make)
        await asyncio.sleep(0.005)
    async with aiohttp.ClientSession() as neighbour:
        async def ask() -> dict[str, object]:
            async with neighbour.post(f"{web.url}/api/ask", json={
                    "question": "老年人活动区在哪里？", "conversation": "N" * 22},
                    headers={"X-Real-IP": "192.0.2.77"}) as response:
                assert response.status == 200
                body: dict[str, object] = await response.json()
                return body

        seconds, body = await timed(ask())
    assert not flooding.done(), "the flood was over before the neighbour asked"
    statuses = await asyncio.wait_for(flooding, 120)
    assert seconds < 2.0, f"the neighbour waited {seconds:.2f} s"
    assert body["outcome"] == "answered"
    assert len(statuses) == FLOOD and statuses.count(429) >= FLOOD - 30


@pytest.mark.slow
async def test_wechat_flood_from_one_openid_leaves_another_answered_within_2_s(
        web: WebServer) -> None:
    async with FakeWeChat(f"{web.url}/wechat") as wechat, \
            FakeWeChat(f"{web.url}/wechat") as other:
        async def flooder() -> int:
            reply = await wechat.send_text("oFlooder", "哪里可以下棋")
            return reply.status if "稍等" not in reply.content else 429

        flooding = asyncio.ensure_future(flood(FLOOD, flooder))
        await asyncio.sleep(0.3)
        seconds, reply = await timed(other.send_text("oNeighbour", "老年人活动区在哪里？"))
        assert not flooding.done(), "the flood was over before the neighbour asked"
        statuses = await asyncio.wait_for(flooding, 120)
    assert seconds < 2.0, f"the neighbour waited {seconds:.2f} s"
    assert "【" in reply.content and "📰《" in reply.content
    assert statuses.count(429) >= FLOOD - 10  # the flooder was slowed down, not answered


async def test_no_address_conversation_id_or_openid_is_stored_or_logged(
        web: WebServer, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    conversation_id, address, openid = "Secret_conversation_7319", "192.0.2.123", "oSecretOpenId99"
    await web.ask("老年人活动区在哪里？", conversation_id, client=address)
    await web.ask("怎么办理社保卡", conversation_id, client=address)
    async with FakeWeChat(f"{web.url}/wechat") as wechat:
        await wechat.send_text(openid, "老年人活动区在哪里？", encrypted=True)
        await wechat.send_text(openid, "老年人活动区在哪里？", signature="0" * 40)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("linli.sqlite3*"))
    assert b"CREATE TABLE questions" in stored and "老年人活动区".encode() in stored
    logged = caplog.text
    for secret in (conversation_id, address, openid):
        assert secret.encode() not in stored, secret
        assert secret not in logged, secret
    assert "question answered=True" in logged


async def test_a_bug_gets_an_apology_and_a_log_line_without_the_address(
        web: WebServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    from bot.channels.web.api import CONVERSATION_KEY

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(web.app[CONVERSATION_KEY], "ask", broken)
    status, body = await web.ask("哪里可以下棋", client="192.0.2.55")
    assert status == 500 and body["error"] == "抱歉，出了点问题，请稍后再试。"
    async with FakeWeChat(f"{web.url}/wechat") as wechat:
        reply = await wechat.send_text("oOpenIdBug", "哪里可以下棋")
    assert reply.status == 200 and reply.content == "抱歉，出了点问题，请稍后再试。"
    assert "RuntimeError: a bug" in caplog.text and "error while handling POST /api/ask" in \
        caplog.text
    assert "127.0.0.1" not in caplog.text and "192.0.2.55" not in caplog.text
    assert "oOpenIdBug" not in caplog.text
