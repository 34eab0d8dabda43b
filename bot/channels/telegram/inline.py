"""Inline mode: `@bot 问题` in any chat offers the top answers as messages to send.

May import `telegram` and the Telegram-free core of `bot`.
"""

import asyncio

from telegram import InlineQueryResultArticle, InputTextMessageContent, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.channels.telegram.common import conversation_of

INLINE_CACHE_SECONDS = 60  # Telegram may reuse inline results for the same text this long


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@bot 问题` in any chat: the top answers as messages to send, without links."""
    query = update.inline_query
    if query is None:
        return
    items = await asyncio.to_thread(conversation_of(context).inline, query.query)
    no_preview = LinkPreviewOptions(is_disabled=True)
    results = [InlineQueryResultArticle(
        id=item.key, title=item.title, description=item.description,
        input_message_content=InputTextMessageContent(
            item.reply.html(), parse_mode=ParseMode.HTML, link_preview_options=no_preview))
        for item in items]
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS)

