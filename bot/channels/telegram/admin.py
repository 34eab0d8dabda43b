"""Admins' Telegram handlers: /reload, /stats, article uploads, the start-up notice.

Only admins, and only in a private chat with the bot (`common.require_admin`).
May import `telegram` and the Telegram-free core of `bot`.
"""

import asyncio
import logging
import secrets

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot import replies, uploads
from bot.channels.telegram.common import (
    conversation_of,
    fit,
    reload_and_report,
    require_admin,
    send,
    settings_of,
)
from bot.conversation import Conversation
from bot.replies import Reply
from bot.settings import Settings
from corpus.models import ArticleFormatError

logger = logging.getLogger(__name__)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-read the corpus, rebuild aside, swap in; report to the admin."""
    message = update.effective_message
    if message is None or not await require_admin(update, context, "/reload"):
        return
    await reload_and_report(message, context)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Questions today and this week, share answered, feedback, top unanswered."""
    message = update.effective_message
    if message is None or not await require_admin(update, context, "/stats"):
        return
    records = conversation_of(context).records
    stats = await asyncio.to_thread(records.stats, 7)
    await send(message, fit(replies.stats_reply(stats, records.moved_aside)))


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sends an article file: check it, save it (asking before overwriting), reload."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    user = update.effective_user
    from_admin = user is not None and user.id in settings_of(context).linli_admin_ids
    if not from_admin and message.chat.type != ChatType.PRIVATE:
        return  # a file shared in a group is not meant for the bot
    if not await require_admin(update, context, "article upload"):
        return
    name = message.document.file_name or "article.md"
    corpus_dir = conversation_of(context).live.corpus_dir
    try:
        uploads.check_size(name, message.document.file_size or 0)  # before downloading it
        data = bytes(await (await message.document.get_file()).download_as_bytearray())
        upload = uploads.check_upload(name, data)
        saved = uploads.save_upload(upload, corpus_dir, overwrite=False)
    except (ArticleFormatError, OSError) as err:
        await send(message, Reply.text(f"❌ 文章没有保存：{err}"))
        return
    if saved is None:
        token = secrets.token_hex(4)
        context.bot_data.setdefault("pending_uploads", {})[token] = upload
        await send(message, Reply.text(
            f"“{name}”已经存在。要用新文件覆盖它吗？",
            [[replies.Button("覆盖", f"ow:{token}"), replies.Button("取消", f"no:{token}")]]))
        return
    await send(message, Reply.text(f"📄 已保存《{upload.title}》（{name}）。"))
    await reload_and_report(message, context)


async def confirm_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """覆盖 / 取消 under an upload that would overwrite an article: save it, or keep the old."""
    query = update.callback_query
    assert query is not None and query.data is not None  # checked by the caller
    if not await require_admin(update, context, "overwrite confirmation"):
        return
    kind, _, token = query.data.partition(":")
    upload = context.bot_data.get("pending_uploads", {}).pop(token, None)
    await query.answer()
    if upload is None:
        await query.edit_message_text("这个确认已经过期，请重新发送文件。")
        return
    if kind == "no":
        await query.edit_message_text(f"已取消，“{upload.name}”保持不变。")
        return
    try:
        uploads.save_upload(upload, conversation_of(context).live.corpus_dir, overwrite=True)
    except (ArticleFormatError, OSError) as err:
        await query.edit_message_text(f"❌ 文章没有保存：{err}")
        return
    await query.edit_message_text(f"📄 已覆盖《{upload.title}》（{upload.name}）。")
    if isinstance(query.message, Message):
        await reload_and_report(query.message, context)


async def tell_admins_records_moved(application: Application) -> None:
    """At start, tell each admin privately if a broken records database was moved aside."""
    conversation: Conversation = application.bot_data["conversation"]
    settings: Settings = application.bot_data["settings"]
    if conversation.records.moved_aside is None:
        return
    note = replies.moved_aside_note(*conversation.records.moved_aside)
    for admin_id in settings.linli_admin_ids:  # a private chat's id is the user's id
        try:
            await application.bot.send_message(admin_id, note)
        except TelegramError as err:
            logger.warning("could not tell an admin that the records were moved aside: %s", err)

