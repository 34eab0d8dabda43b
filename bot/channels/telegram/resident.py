"""Residents' Telegram handlers: questions in private and in groups, /start, /help, buttons.

Search and SQLite writes run in a worker thread (`asyncio.to_thread`), so the
event loop keeps serving other residents meanwhile. May import `telegram` and the
Telegram-free core of `bot`.
"""

import asyncio
import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import replies
from bot.channels.telegram import admin
from bot.channels.telegram.common import conversation_of, markup, send, settings_of
from bot.channels.telegram.deep_link import decode_payload
from bot.channels.telegram.delivery import deliver
from bot.replies import Reply

logger = logging.getLogger(__name__)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          question: str) -> None:
    """Search off the event loop, record the question, send the answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    conversation = conversation_of(context)
    # Decided here, on the event loop: a flood past the limit never reaches a worker thread.
    verdict = conversation.admit(user.id)
    if verdict == "drop":
        logger.debug("question dropped (rate limited; %d so far)", conversation.dropped)
        return
    if verdict == "notice":
        logger.info("question not recorded (rate limited)",
                    extra={"skipped": "rate limited", "chat_type": message.chat.type})
        await send(message, Reply.text(replies.SLOW_DOWN))
        return
    asked = await asyncio.to_thread(conversation.ask, user.id, message.chat.type,
                                    question, message.chat.id, True)
    if asked.skipped:  # no record, so no "question answered=" line either: the two agree
        logger.info("question not recorded (%s)", asked.skipped,
                    extra={"skipped": asked.skipped, "chat_type": message.chat.type})
        await send(message, asked.reply)
        return
    extra = {"answered": asked.answered, "latency_ms": round(asked.latency_ms, 1),
             "chat_type": message.chat.type}
    if settings_of(context).linli_log_questions:
        extra["question"] = question
    logger.info("question answered=%s latency_ms=%.1f", asked.answered, asked.latency_ms,
                extra=extra)
    await deliver(message, asked.reply, context)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the resident; a deep link's question (t.me/<bot>?start=...) is answered."""
    question = decode_payload(context.args[0]) if context.args else None
    if question:
        await answer_question(update, context, question)
    elif update.effective_message:
        await send(update.effective_message, conversation_of(context).welcome())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to ask."""
    if update.effective_message:
        await send(update.effective_message, Reply.text(replies.HELP))


async def about_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say how many articles there are, how new, and where answers come from."""
    if update.effective_message:
        await send(update.effective_message, conversation_of(context).about())


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
        await admin.confirm_upload(update, context)
        return
    results = await asyncio.to_thread(conversation_of(context).press, update.effective_user.id,
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

