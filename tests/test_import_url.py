import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli import main
from bot.replies import citation
from corpus import load_corpus
from corpus.importers import ImportRefused, convert_source
from corpus.importers import fetch as fetch_import
from corpus.importers.webpage import convert_html
from retrieval.index import build_index
from retrieval.search import Searcher
from tests.helpers.sources import CANONICAL, CANTEEN_TITLE, district_page, list_page

ARTICLE = "/news/2021/0708/12345.html"
LOCAL = frozenset({"127.0.0.1"})  # the test site's host, allowed as an admin would allow it


async def article(_: web.Request) -> web.Response:
    return web.Response(text=district_page(canonical=None), content_type="text/html",
                        charset="utf-8")


async def moved(_: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently(ARTICLE)


async def news_list(_: web.Request) -> web.Response:
    return web.Response(text=list_page(), content_type="text/html", charset="utf-8")


async def slow(_: web.Request) -> web.Response:
    await asyncio.sleep(3)
    return web.Response(text=district_page(), content_type="text/html")


async def huge(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)  # sent in chunks, with no Content-Length to trust
    for _ in range(64):
        await response.write(b"<p>" + "很长的页面。".encode() * 1000 + b"</p>")
    await response.write_eof()
    return response


async def pdf(_: web.Request) -> web.Response:
    return web.Response(body=b"%PDF-1.4", content_type="application/pdf")


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """A district website on 127.0.0.1: an article, a redirect, a list, and failures."""
    app = web.Application()
    app.router.add_get(ARTICLE, article)
    app.router.add_get("/old/12345.html", moved)
    app.router.add_get("/news/", news_list)
    app.router.add_get("/slow.html", slow)
    app.router.add_get("/huge.html", huge)
    app.router.add_get("/paper.pdf", pdf)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def refusal(url: str) -> str:
    with pytest.raises(ImportRefused) as refused:
        await asyncio.to_thread(convert_source, url, LOCAL)
    return str(refused.value)


async def test_an_article_url_is_imported_and_answered(
        site: str, corpus_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_IMPORT_ALLOW_HOSTS", "127.0.0.1")
    url = site + ARTICLE
    assert await asyncio.to_thread(main, ["import", url, "--out", str(corpus_dir)]) == 0
    written = corpus_dir / "2021-07-08-社区食堂开到家门口-老人吃饭不再难.md"
    assert f"url: {url}\n" in written.read_text(encoding="utf-8")
    assert f"{written}\t{CANTEEN_TITLE}\t2021-07-08\t" in capsys.readouterr().out
    hit = Searcher(build_index(load_corpus(corpus_dir).articles)).search("老年食堂在哪里")[0]
    assert hit.title == CANTEEN_TITLE
    assert "管城回族区人民政府 · 2021年7月8日 · 记者 王小明" in citation(hit)
    assert url in citation(hit)


async def test_a_redirect_is_followed_to_the_article(site: str) -> None:
    [draft] = await asyncio.to_thread(convert_source, site + "/old/12345.html", LOCAL)
    assert draft.article.title == CANTEEN_TITLE
    assert draft.url == site + ARTICLE


def test_the_canonical_address_wins_over_the_fetched_one(site: str) -> None:
    fetched = site + ARTICLE
    assert convert_html(district_page().encode(), fetched, fetched).url == CANONICAL
    assert convert_html(district_page(canonical=None).encode(), fetched, fetched).url == fetched


async def test_a_missing_page_says_404(site: str) -> None:
    message = await refusal(site + "/news/gone.html")
    assert message == (f"{site}/news/gone.html: the server answered 404 Not Found; check the "
                       "address; the page may have been moved or removed")


async def test_a_list_page_url_is_refused(site: str) -> None:
    assert "no article text found" in await refusal(site + "/news/")


async def test_a_page_that_does_not_answer_in_time_is_refused(
        site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_import, "FETCH_SECONDS", 0.2)
    message = await refusal(site + "/slow.html")
    assert message.startswith(f"{site}/slow.html: no complete answer within 0.2 seconds; try "
                              "again later, or save the page as .html")


async def test_an_oversized_page_is_cut_off(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_import, "MAX_PAGE_BYTES", 64 * 1024)
    message = await refusal(site + "/huge.html")
    assert message.startswith(f"{site}/huge.html: the page is over 64 KB, too big")


async def test_a_pdf_address_is_sent_to_the_file_import(site: str) -> None:
    assert "not a web page but application/pdf; download the file" in \
        await refusal(site + "/paper.pdf")


async def test_an_unreachable_host_is_refused_not_raised() -> None:
    message = await refusal("http://127.0.0.1:9/a.html")
    assert message.startswith("http://127.0.0.1:9/a.html: cannot fetch the page (ConnectError")
