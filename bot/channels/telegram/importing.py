"""Admins import web pages, Word files and PDF pages in the private chat: preview, 保存 / 取消.

The conversion runs in a worker thread with a time limit; a refusal or a converter's
failure is told to the admin, never raised. Nothing is written before 保存.
"""

import asyncio
import logging
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes, filters

from bot.channels.telegram.common import (
    conversation_of,
    fit,
    reload_and_report,
    require_admin,
    send,
)
from bot.channels.telegram.resident import button
from bot.replies import Button, Reply
from corpus.importers import Draft, ImportRefused, convert_file, convert_source, write_draft
from corpus.importers.fetch import is_url
from corpus.importers.sources import MAX_SOURCE_BYTES

logger = logging.getLogger(__name__)

Converter = Callable[[], list[Draft]]  # a conversion, run in a worker thread

IMPORTABLE = (filters.Document.FileExtension("html") | filters.Document.FileExtension("htm")
              | filters.Document.FileExtension("docx") | filters.Document.FileExtension("pdf"))
BUTTON_PATTERN = r"^i[sx]:"
CONVERT_SECONDS = 60.0
MAX_PENDING = 20
PREVIEW_CHARS = 80
USAGE = "用法：/import 文章网页的地址，例如 /import https://www.example.gov.cn/news/1.html"


async def import_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sends an .html, .docx or .pdf file: convert it and show what would be saved."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    if not await require_admin(update, context, "article import"):
        return
    name = message.document.file_name or "article"
    size = message.document.file_size or 0
    if size > MAX_SOURCE_BYTES:
        await send(message, Reply.text(f"❌ 没有导入：{name} 有 {size} 字节，超过 "
                                       f"{MAX_SOURCE_BYTES} 字节的上限；请只发送文章所在的页面。"))
        return
    data = bytes(await (await message.document.get_file()).download_as_bytearray())
    await _convert_and_preview(message, context, name,
                               lambda: convert_file(name, data))


async def import_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/import https://…`: fetch an article page, convert it, show what would be saved."""
    message = update.effective_message
    if message is None or not await require_admin(update, context, "/import"):
        return
    url = (context.args or [""])[0]
    if not is_url(url):
        await send(message, Reply.text(USAGE))
        return
    allowed = context.bot_data["settings"].linli_import_allow_hosts
    await _convert_and_preview(message, context, url,
                               lambda: convert_source(url, allow_hosts=allowed))


async def _convert_and_preview(message: Message, context: ContextTypes.DEFAULT_TYPE,
                               origin: str, convert: Converter) -> None:
    await message.chat.send_action(ChatAction.TYPING)  # "typing…" while it converts
    try:
        drafts = await asyncio.wait_for(asyncio.to_thread(convert), CONVERT_SECONDS)
    except ImportRefused as err:
        await send(message, Reply.text(f"❌ 没有导入：{err}"))
        return
    except TimeoutError:
        logger.warning("import conversion took over %s s", CONVERT_SECONDS)
        await send(message, Reply.text(f"❌ 没有导入：{origin} 转换超过 {CONVERT_SECONDS:g} 秒；"
                                       "请只发送文章所在的页面，或手工编写文章文件。"))
        return
    pending: dict[str, list[Draft]] = context.bot_data.setdefault("pending_imports", {})
    while len(pending) >= MAX_PENDING:  # previews nobody answered: the oldest expires
        pending.pop(next(iter(pending)))
    token = secrets.token_hex(4)
    pending[token] = drafts
    corpus_dir = conversation_of(context).live.corpus_dir
    await send(message, fit(preview(drafts, corpus_dir, token)))


def preview(drafts: list[Draft], corpus_dir: Path, token: str) -> Reply:
    """Show each article's title, citation fields and first lines, with 保存 / 取消."""
    lines = [f"📥 转换出 {len(drafts)} 篇文章，请检查：" if len(drafts) > 1 else "📥 请检查："]
    for draft in drafts:
        lines += ["", f"《{draft.article.title}》"]
        details = " · ".join(x for x in (draft.source, draft.date, draft.byline) if x)
        if details:
            lines.append(details)
        lines += [_first_line(p) for p in draft.article.paragraphs[:2]]
        lines.append(f"{len(draft.article.paragraphs)} 段，{draft.characters} 字")
        if draft.missing:
            lines.append(f"未找到：{'、'.join(_FIELD_NAMES[m] for m in draft.missing)}")
        if (corpus_dir / draft.file_name()).exists():
            lines.append(f"⚠️ 已有同名文章 {draft.file_name()}，保存时不会覆盖它。")
    lines += ["", "保存后会重新加载文章。"]
    return Reply.text("\n".join(lines), [[Button("保存", f"is:{token}"),
                                          Button("取消", f"ix:{token}")]])


async def import_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """保存 writes the previewed articles and reloads; 取消 drops them."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    if not re.match(BUTTON_PATTERN, query.data):
        # PTB hands a query with empty data to every pattern handler: not ours to judge.
        await button(update, context)
        return
    if not await require_admin(update, context, "import confirmation"):
        return
    kind, _, token = query.data.partition(":")
    drafts = context.bot_data.get("pending_imports", {}).pop(token, None)
    await query.answer()
    if drafts is None:
        await query.edit_message_text("这个确认已经过期，请重新发送文件或网址。")
        return
    if kind == "ix":
        await query.edit_message_text("已取消，没有保存任何文章。")
        return
    saved, skipped = await asyncio.to_thread(save, drafts,
                                             conversation_of(context).live.corpus_dir)
    lines = [f"📄 已保存《{title}》（{name}）。" for title, name in saved]
    lines += [f"⚠️ 没有保存：{reason}" for reason in skipped]
    await query.edit_message_text(fit(Reply.text("\n".join(lines))).plain())
    if saved and isinstance(query.message, Message):
        await reload_and_report(query.message, context)


def save(drafts: list[Draft], corpus_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Write the drafts that do not overwrite anything; say which were skipped and why."""
    saved: list[tuple[str, str]] = []
    skipped: list[str] = []
    taken: set[Path] = set()
    for draft in drafts:
        name = draft.file_name()
        if (corpus_dir / name).exists():
            skipped.append(f"《{draft.article.title}》：已有同名文章 {name}，没有覆盖它。")
            continue
        try:
            path = write_draft(draft, corpus_dir, taken=taken)
        except ImportRefused as err:
            skipped.append(f"《{draft.article.title}》：{err}")
            continue
        saved.append((draft.article.title, path.name))
    return saved, skipped


def _first_line(paragraph: str) -> str:
    return paragraph if len(paragraph) <= PREVIEW_CHARS else paragraph[:PREVIEW_CHARS] + "……"


_FIELD_NAMES = {"date": "日期", "source": "来源", "byline": "作者", "url": "网址"}
