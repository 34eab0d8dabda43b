"""Telegram updates in, replies out: each handler parses the update, asks, renders.

Search and SQLite writes run in a worker thread (`asyncio.to_thread`), so the
event loop keeps serving other residents meanwhile.
"""

import asyncio
import logging
import secrets

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot import admin, replies
from bot.conversation import Conversation
from bot.deep_link import decode_payload
from bot.live_index import ReloadBusyError
from bot.replies import Reply
from bot.settings import Settings
from corpus.models import ArticleFormatError

logger = logging.getLogger(__name__)

INLINE_CACHE_SECONDS = 60  # Telegram may reuse inline results for the same text this long


def _conversation(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    conversation: Conversation = context.bot_data["conversation"]
    return conversation


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    settings: Settings = context.bot_data["settings"]
    return settings


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """Turn a reply's button rows into an inline keyboard."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                                 for row in reply.buttons])


async def send(message: Message, reply: Reply) -> None:
    """Send a reply to the chat of `message`, as HTML with its buttons."""
    await message.reply_html(reply.html(), reply_markup=markup(reply),
                             do_quote=message.chat.type != ChatType.PRIVATE)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          question: str) -> None:
    """Search off the event loop, record the question, send the answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    asked = await asyncio.to_thread(_conversation(context).ask, user.id, message.chat.type,
                                    question, message.chat.id)
    if asked.skipped:  # no record, so no "question answered=" line either: the two agree
        logger.info("question not recorded (%s)", asked.skipped,
                    extra={"skipped": asked.skipped, "chat_type": message.chat.type})
        await send(message, asked.reply)
        return
    extra = {"answered": asked.answered, "latency_ms": round(asked.latency_ms, 1),
             "chat_type": message.chat.type}
    if _settings(context).linli_log_questions:
        extra["question"] = question
    logger.info("question answered=%s latency_ms=%.1f", asked.answered, asked.latency_ms,
                extra=extra)
    await send(message, asked.reply)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the resident; a deep link's question (t.me/<bot>?start=...) is answered."""
    question = decode_payload(context.args[0]) if context.args else None
    if question:
        await answer_question(update, context, question)
    elif update.effective_message:
        await send(update.effective_message, _conversation(context).welcome())


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@bot 问题` in any chat: the top answers as messages to send, without links."""
    query = update.inline_query
    if query is None:
        return
    items = await asyncio.to_thread(_conversation(context).inline, query.query)
    no_preview = LinkPreviewOptions(is_disabled=True)
    results = [InlineQueryResultArticle(
        id=item.key, title=item.title, description=item.description,
        input_message_content=InputTextMessageContent(
            item.reply.html(), parse_mode=ParseMode.HTML, link_preview_options=no_preview))
        for item in items]
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask."""
    if update.effective_message:
        await send(update.effective_message, Reply.text(replies.HELP))


async def about_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say how many articles there are, how new, and where answers come from."""
    if update.effective_message:
        await send(update.effective_message, _conversation(context).about())


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer `/ask 问题` (the way to ask in a group)."""
    question = " ".join(context.args or [])
    await answer_question(update, context, question)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer any text sent in a private chat."""
    if update.effective_message and update.effective_message.text:
        await answer_question(update, context, update.effective_message.text)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only a mention of the bot or a reply to one of its messages."""
    message = update.effective_message
    if message is None or not message.text:
        return
    mention = f"@{context.bot.username}"
    replied = message.reply_to_message
    if mention.lower() in message.text.lower():
        await answer_question(update, context, message.text.replace(mention, " ").strip())
    elif replied and replied.from_user and replied.from_user.id == context.bot.id:
        await answer_question(update, context, message.text)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice and the like get a short hint."""
    if update.effective_message:
        await send(update.effective_message, Reply.text(replies.NOT_TEXT))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a button press: next source, whole article, feedback, example question."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_user is None:
        return
    if query.data.startswith(("ow:", "no:")):
        await _confirm_upload(update, context)
        return
    results = await asyncio.to_thread(_conversation(context).press, update.effective_user.id,
                                      query.data)
    first = results[0] if results else Reply()
    # CallbackQueries need to be answered, even if no notification to the user is needed.
    await query.answer(text=first.notice or None)
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    for reply in results:
        if reply.edit and reply.pieces:
            await query.edit_message_text(reply.html(), parse_mode=ParseMode.HTML,
                                          reply_markup=markup(reply))
        elif reply.edit:
            await query.edit_message_reply_markup(_merge_markup(message, reply))
        elif reply.pieces:
            await send(message, reply)


def _merge_markup(message: Message, reply: Reply) -> InlineKeyboardMarkup | None:
    """Keep the message's other buttons; replace the feedback row with the reply's."""
    rows = [list(row) for row in (message.reply_markup.inline_keyboard
                                  if message.reply_markup else [])
            if not any(str(b.callback_data or "").startswith("v:") for b in row)]
    new = markup(reply)
    return InlineKeyboardMarkup(rows + [list(r) for r in (new.inline_keyboard if new else [])])


def _user_hash(context: ContextTypes.DEFAULT_TYPE, user: User | None) -> str | None:
    """Name a user in the log by the records' keyed hash, never by the raw id."""
    return _conversation(context).records.user_hash(user.id) if user else None


async def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str) -> bool:
    """Allow admin actions only to admins, and only in a private chat with the bot."""
    user, chat = update.effective_user, update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        logger.info("pointed %s in a %s to the private chat", what,
                    chat.type if chat else "chat", extra={"refused": what})
        pointer = replies.PRIVATE_ONLY.format(username=context.bot.username)
        if update.callback_query:
            await update.callback_query.answer(pointer)
        elif update.effective_message:
            await update.effective_message.reply_text(pointer)
        return False
    who = _user_hash(context, user)
    if user is not None and user.id in _settings(context).linli_admin_ids:
        logger.info("admin action: %s by user %s", what, who,
                    extra={"admin_action": what, "user": who})
        return True
    logger.warning("refused %s to non-admin user %s", what, who,
                   extra={"refused": what, "user": who})
    if update.callback_query:
        await update.callback_query.answer(replies.NOT_ADMIN)
    elif update.effective_message:
        await send(update.effective_message, Reply.text(replies.NOT_ADMIN))
    return False


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-read the corpus, rebuild aside, swap in; report to the admin."""
    message = update.effective_message
    if message is None or not await _is_admin(update, context, "/reload"):
        return
    await _reload_and_report(message, context)


async def _reload_and_report(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    live = _conversation(context).live
    if live.reloading:
        await send(message, Reply.text(replies.RELOAD_BUSY))
        return
    await send(message, Reply.text("⏳ 正在重新加载文章，期间照常回答居民的问题……"))
    await message.chat.send_action(ChatAction.TYPING)  # "typing…" while it rebuilds
    try:
        outcome = await live.reload()
    except ReloadBusyError:
        await send(message, Reply.text(replies.RELOAD_BUSY))
        return
    await send(message, fit(admin.reload_reply(outcome)))


def fit(reply: Reply) -> Reply:
    """Cut a long report so that it fits one Telegram message."""
    text = reply.plain()
    if len(text) <= replies.MAX_MESSAGE:
        return reply
    return Reply.text(text[: replies.MAX_MESSAGE - 20] + "\n……（已截断）", reply.buttons)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Questions today and this week, share answered, feedback, top unanswered."""
    message = update.effective_message
    if message is None or not await _is_admin(update, context, "/stats"):
        return
    records = _conversation(context).records
    stats = await asyncio.to_thread(records.stats, 7)
    await send(message, fit(admin.stats_reply(stats, records.moved_aside)))


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin sends an article file: check it, save it (asking before overwriting), reload."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    user = update.effective_user
    from_admin = user is not None and user.id in _settings(context).linli_admin_ids
    if not from_admin and message.chat.type != ChatType.PRIVATE:
        return  # a file shared in a group is not meant for the bot
    if not await _is_admin(update, context, "article upload"):
        return
    name = message.document.file_name or "article.md"
    corpus_dir = _conversation(context).live.corpus_dir
    try:
        admin.check_size(name, message.document.file_size or 0)  # before downloading it
        data = bytes(await (await message.document.get_file()).download_as_bytearray())
        upload = admin.check_upload(name, data)
        saved = admin.save_upload(upload, corpus_dir, overwrite=False)
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
    await _reload_and_report(message, context)


async def _confirm_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None  # checked by the caller
    if not await _is_admin(update, context, "overwrite confirmation"):
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
        admin.save_upload(upload, _conversation(context).live.corpus_dir, overwrite=True)
    except (ArticleFormatError, OSError) as err:
        await query.edit_message_text(f"❌ 文章没有保存：{err}")
        return
    await query.edit_message_text(f"📄 已覆盖《{upload.title}》（{upload.name}）。")
    if isinstance(query.message, Message):
        await _reload_and_report(query.message, context)


async def tell_admins_records_moved(application: Application) -> None:
    """At start, tell each admin privately if a broken records database was moved aside."""
    conversation: Conversation = application.bot_data["conversation"]
    settings: Settings = application.bot_data["settings"]
    if conversation.records.moved_aside is None:
        return
    note = admin.moved_aside_note(*conversation.records.moved_aside)
    for admin_id in settings.linli_admin_ids:  # a private chat's id is the user's id
        try:
            await application.bot.send_message(admin_id, note)
        except TelegramError as err:
            logger.warning("could not tell an admin that the records were moved aside: %s", err)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error first, then apologise to the user if there is one to tell."""
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(context.error, Forbidden):
        return  # the user blocked the bot: nobody to tell
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(replies.APOLOGY)
        except TelegramError:
            logger.warning("could not send the apology either", exc_info=True)
