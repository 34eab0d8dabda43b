import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.helpers.harness import ADMIN_ID, Harness
from tests.helpers.sources import (
    CANTEEN,
    CANTEEN_TITLE,
    EPAPER,
    district_page,
    pdf_file,
    scanned_pdf,
    word_file,
)
from tests.test_bot_resident import labels

SAVED_NAME = "2021-07-08-社区食堂开到家门口-老人吃饭不再难.md"


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """A district website on 127.0.0.1 with one article page."""
    async def article(_: web.Request) -> web.Response:
        return web.Response(text=district_page(canonical=None), content_type="text/html")

    app = web.Application()
    app.router.add_get("/news/12345.html", article)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    yield f"http://127.0.0.1:{server._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


async def preview_of(bot: Harness) -> dict:
    [sent] = await bot.telegram.wait_for("sendMessage")
    return bot.telegram.last_message() | {"params": sent}


async def test_an_admin_sends_a_web_page_saves_it_and_residents_get_it_cited(
        bot: Harness) -> None:
    await bot.telegram.send_document("12345.html", district_page().encode(), user_id=ADMIN_ID)
    preview = await preview_of(bot)
    assert preview["text"].startswith(f"📥 请检查：\n\n《{CANTEEN_TITLE}》\n"
                                      "管城回族区人民政府 · 2021-07-08 · 记者 王小明\n"
                                      "本报讯 7月7日，南关街道橡树玫瑰社区的老年食堂正式开门营业。")
    assert labels(preview) == [["保存", "取消"]]
    assert not (bot.settings.linli_corpus_dir / SAVED_NAME).exists()
    # "typing…" while the page was converted
    assert [a["action"] for a in bot.telegram.sent("sendChatAction")] == ["typing"]

    await bot.telegram.press(preview, "保存", user_id=ADMIN_ID)
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert edit["text"] == f"📄 已保存《{CANTEEN_TITLE}》（{SAVED_NAME}）。"
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert report["text"].startswith("✅ 重新加载完成：5 篇文章")
    answer = (await bot.ask("老年食堂几点供应午餐"))["text"]
    assert f"《{CANTEEN_TITLE}》" in answer
    assert "管城回族区人民政府 · 2021年7月8日 · 记者 王小明" in answer


async def test_an_admin_imports_an_article_address(bot: Harness, site: str) -> None:
    settings = bot.app.bot_data["settings"]  # the test site is on 127.0.0.1: allow it
    bot.app.bot_data["settings"] = settings.model_copy(
        update={"linli_import_allow_hosts": frozenset({"127.0.0.1"})})
    await bot.telegram.send_text(f"/import {site}/news/12345.html", user_id=ADMIN_ID)
    preview = await preview_of(bot)
    assert f"《{CANTEEN_TITLE}》" in preview["text"]
    await bot.telegram.press(preview, "保存", user_id=ADMIN_ID)
    await bot.telegram.wait_for("editMessageText")
    await bot.telegram.wait_for("sendMessage", count=2)
    saved = (bot.settings.linli_corpus_dir / SAVED_NAME).read_text(encoding="utf-8")
    assert f"url: {site}/news/12345.html\n" in saved
    answer = (await bot.ask("老年食堂在哪里"))["text"]
    assert f"{site}/news/12345.html" in answer


async def test_a_word_file_is_previewed_and_cancel_writes_nothing(bot: Harness) -> None:
    data = word_file(bot.settings.linli_data_dir.parent / "a.docx", CANTEEN_TITLE,
                     CANTEEN).read_bytes()
    files_before = sorted(bot.settings.linli_corpus_dir.iterdir())
    await bot.telegram.send_document("食堂.docx", data, user_id=ADMIN_ID)
    preview = await preview_of(bot)
    assert f"《{CANTEEN_TITLE}》" in preview["text"]
    assert "未找到：日期、来源、作者、网址" in preview["text"]
    await bot.telegram.press(preview, "取消", user_id=ADMIN_ID)
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert edit["text"] == "已取消，没有保存任何文章。"
    assert sorted(bot.settings.linli_corpus_dir.iterdir()) == files_before


async def test_a_pdf_page_with_two_articles_saves_both(bot: Harness, tmp_path: Path) -> None:
    data = pdf_file(tmp_path / "p.pdf", [EPAPER]).read_bytes()
    await bot.telegram.send_document("第3版.pdf", data, user_id=ADMIN_ID)
    preview = await preview_of(bot)
    assert preview["text"].startswith("📥 转换出 2 篇文章，请检查：\n\n《社区食堂开到家门口》")
    assert "《义诊进社区》" in preview["text"]
    await bot.telegram.press(preview, "保存", user_id=ADMIN_ID)
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert edit["text"] == ("📄 已保存《社区食堂开到家门口》（社区食堂开到家门口.md）。\n"
                            "📄 已保存《义诊进社区》（义诊进社区.md）。")
    [_, report] = await bot.telegram.wait_for("sendMessage", count=2)
    assert report["text"].startswith("✅ 重新加载完成：6 篇文章")
    assert "《义诊进社区》" in (await bot.ask("哪里可以免费测血糖"))["text"]


async def test_an_existing_article_is_not_overwritten(bot: Harness, tmp_path: Path) -> None:
    existing = bot.settings.linli_corpus_dir / "义诊进社区.md"
    existing.write_text("---\ntitle: 旧文章\n---\n旧的正文。\n", encoding="utf-8")
    await bot.telegram.send_document("p.pdf", pdf_file(tmp_path / "p.pdf", [EPAPER]).read_bytes(),
                                     user_id=ADMIN_ID)
    preview = await preview_of(bot)
    assert "⚠️ 已有同名文章 义诊进社区.md，保存时不会覆盖它。" in preview["text"]
    await bot.telegram.press(preview, "保存", user_id=ADMIN_ID)
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert "⚠️ 没有保存：《义诊进社区》：已有同名文章 义诊进社区.md，没有覆盖它。" in edit["text"]
    assert existing.read_text(encoding="utf-8").startswith("---\ntitle: 旧文章")


async def test_a_scanned_pdf_is_refused_with_the_reason(bot: Harness, tmp_path: Path) -> None:
    await bot.telegram.send_document("scan.pdf", scanned_pdf(tmp_path / "s.pdf").read_bytes(),
                                     user_id=ADMIN_ID)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"] == ("❌ 没有导入：scan.pdf: this PDF has no text layer (a scan); "
                             "it needs OCR first")


async def test_residents_cannot_import(bot: Harness, tmp_path: Path) -> None:
    await bot.telegram.send_document("p.pdf", pdf_file(tmp_path / "p.pdf", [EPAPER]).read_bytes())
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"] == "抱歉，这个命令只有管理员可以使用。"
    assert (await bot.ask("/import https://example.org/a.html"))["text"] == \
        "抱歉，这个命令只有管理员可以使用。"


async def test_import_without_an_address_explains_itself(bot: Harness) -> None:
    reply = (await bot.ask("/import", user_id=ADMIN_ID))["text"]
    assert reply.startswith("用法：/import 文章网页的地址")


async def test_a_second_save_of_the_same_preview_has_expired(bot: Harness) -> None:
    await bot.telegram.send_document("12345.html", district_page().encode(), user_id=ADMIN_ID)
    preview = await preview_of(bot)
    await bot.telegram.press(preview, "取消", user_id=ADMIN_ID)
    await bot.telegram.wait_for("editMessageText")
    await bot.telegram.press(preview, "保存", user_id=ADMIN_ID)
    [edit] = await bot.telegram.wait_for("editMessageText")
    assert edit["text"] == "这个确认已经过期，请重新发送文件或网址。"


async def test_a_conversion_that_hangs_is_given_up_and_told(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.telegram import importing

    released = threading.Event()

    def hangs(name: str, data: bytes) -> list:
        released.wait(10)
        return []

    monkeypatch.setattr(importing, "convert_file", hangs)
    monkeypatch.setattr(importing, "CONVERT_SECONDS", 0.2)
    try:
        await bot.telegram.send_document("slow.docx", b"PK", user_id=ADMIN_ID)
        [reply] = await bot.telegram.wait_for("sendMessage")
    finally:
        released.set()
    assert reply["text"] == ("❌ 没有导入：slow.docx 转换超过 0.2 秒；请只发送文章所在的页面，"
                             "或手工编写文章文件。")
    assert bot.telegram.sent("editMessageText") == []


async def test_a_file_over_the_size_cap_is_refused_before_download(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.telegram import importing

    monkeypatch.setattr(importing, "MAX_SOURCE_BYTES", 100)
    await bot.telegram.send_document("big.pdf", b"%PDF" + b"x" * 200, user_id=ADMIN_ID)
    [reply] = await bot.telegram.wait_for("sendMessage")
    assert reply["text"].startswith("❌ 没有导入：big.pdf 有 204 字节，超过 100 字节的上限")
    assert bot.telegram.sent("getFile") == []
