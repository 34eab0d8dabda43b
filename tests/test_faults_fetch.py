"""Issue 22, row 6: `/import` and `linli import` never fetch an internal address.

A local site on 127.0.0.1 stands in for the internal page (an admin panel, a metadata
service); it counts the requests it gets, so a refusal is checked to have sent none.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from corpus.importers import ImportRefused, convert_source, fetch
from corpus.importers.fetch import fetch_page, is_public
from tests.helpers.harness import ADMIN_ID, Harness
from tests.helpers.sources import district_page

REAL_GETADDRINFO = socket.getaddrinfo


@dataclass
class Site:
    """The internal site: its port and every request it received (path, Host header)."""

    port: int = 0
    seen: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
async def internal() -> AsyncIterator[Site]:
    site = Site()

    async def page(request: web.Request) -> web.Response:
        site.seen.append((request.path, request.headers.get("Host", "")))
        return web.Response(text=district_page(), content_type="text/html", charset="utf-8")

    async def to_secret(request: web.Request) -> web.Response:
        site.seen.append((request.path, request.headers.get("Host", "")))
        raise web.HTTPFound(request.query["to"])

    app = web.Application()
    app.router.add_get("/secret.html", page)
    app.router.add_get("/go", to_secret)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    site.port = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield site
    await runner.cleanup()


def resolving(names: dict[str, str], calls: list[str] | None = None) -> Any:
    """A getaddrinfo that answers `names` (host -> IPv4 address) and passes the rest on."""
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            if calls is not None:
                calls.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)
    return getaddrinfo


async def refusal(url: str, allow: frozenset[str] = frozenset()) -> str:
    with pytest.raises(ImportRefused) as refused:
        await asyncio.to_thread(convert_source, url, allow)
    return str(refused.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433",
                                  "0x7f.1", "127.1", "[::1]", "0.0.0.0"])
async def test_an_internal_address_in_any_spelling_is_refused_unfetched(
        internal: Site, host: str) -> None:
    url = f"http://{host}:{internal.port}/secret.html"
    message = await refusal(url)
    assert message.startswith(f"{url}: ") and "is an internal address" in message
    assert "LINLI_IMPORT_ALLOW_HOSTS" in message
    assert internal.seen == []


@pytest.mark.parametrize("address", ["10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "224.0.0.1", "239.255.255.250", "0.0.0.0",
                                     "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1",
                                     "::ffff:169.254.169.254", "240.0.0.1", "255.255.255.255"])
def test_private_link_local_multicast_and_unspecified_addresses_are_not_public(
        address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::", "::ffff:8.8.8.8"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public(address)


async def test_a_redirect_to_an_internal_address_is_refused_before_it_is_asked(
        internal: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # news.example stands in for a public site (allowed, so that it may live on 127.0.0.1).
    monkeypatch.setattr(socket, "getaddrinfo", resolving({"news.example": "127.0.0.1"}))
    for target in (f"http://127.0.0.1:{internal.port}/secret.html",
                   f"http://localhost:{internal.port}/secret.html"):
        url = f"http://news.example:{internal.port}/go?to={target}"
        message = await refusal(url, frozenset({"news.example"}))
        assert f"(redirected to {target})" in message and "is an internal address" in message
    assert [path for path, _ in internal.seen] == ["/go", "/go"]  # never /secret.html


async def test_the_connection_goes_to_the_address_checked_not_a_second_lookup(
        internal: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo",
                        resolving({"intranet.example": "127.0.0.1"}, calls))
    url = f"http://intranet.example:{internal.port}/secret.html"
    page = await asyncio.to_thread(fetch_page, url, None, None, {"intranet.example"})
    assert page.url == url and "社区食堂" in page.data.decode()
    # One lookup, checked and connected to: a rebinding DNS answer gets no second chance.
    assert calls == ["intranet.example"]
    assert internal.seen == [("/secret.html", f"intranet.example:{internal.port}")]


async def test_an_admin_named_host_is_fetched(internal: Site) -> None:
    url = f"http://localhost:{internal.port}/secret.html"
    [draft] = await asyncio.to_thread(convert_source, url, frozenset({"localhost"}))
    assert draft.url is not None and internal.seen


async def test_import_of_an_internal_address_in_telegram_shows_the_refusal(
        bot: Harness, internal: Site) -> None:
    url = f"http://2130706433:{internal.port}/secret.html"
    reply = (await bot.ask(f"/import {url}", user_id=ADMIN_ID))["text"]
    assert reply.startswith(f"❌ 没有导入：{url}: 2130706433 is an internal address (127.0.0.1)")
    assert internal.seen == []


async def test_a_dns_answer_that_changes_after_the_check_is_never_connected_to(
        internal: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: the first answer passes the check, a second one would point inside.
    # 127.0.0.2 stands in for a public address (nothing listens there).
    answers = iter(["127.0.0.2", "127.0.0.1", "127.0.0.1"])

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(fetch, "is_public", lambda address: address == "127.0.0.2")
    message = await refusal(f"http://rebind.example:{internal.port}/secret.html")
    assert "cannot fetch the page (ConnectError" in message
    assert internal.seen == []
