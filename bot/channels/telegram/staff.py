"""The staff loop in Telegram: /pending, its buttons, the answer an admin types, notifications.

Thin: `bot.staff.desk.Desk` decides; these handlers check the admin (private chat
only, never in a group), deliver the desk's replies, reload through the same path as
/reload after a staff answer is written, and send each waiting resident their answer
once. May import `telegram`, `bot.channels.telegram.common` and the Telegram-free core.
"""

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes

from bot.channels.telegram.common import (
    markup,
    reload_and_report,
    require_admin,
    send,
    settings_of,
)
from bot.staff.desk import PATTERN, Desk, DeskResult
from bot.staff.loop import Notification
from bot.staff.notify import purge_expired

logger = logging.getLogger(__name__)

BUTTON_PATTERN = PATTERN
PURGE_SECONDS = 3600  # how often expired notification chat ids are deleted


def desk_of(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    """Return the staff desk the application was built with."""
    desk: Desk = context.bot_data["desk"]
    return desk


async def pending_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the queue, a page at a time (admins, in their private chat only)."""
    message = update.effective_message
    if message is None or not await require_admin(update, context, "/pending"):
        return
    await send(message, await asyncio.to_thread(desk_of(context).page, 0))


async def staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a /pending button: a page, 回答, 选段落, a pick, 保存 / 改标题 / 取消."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    if not await require_admin(update, context, "staff button"):
        return
    result = await asyncio.to_thread(desk_of(context).press, user.id, query.data)
    first = result.replies[0] if result.replies else None
    # CallbackQueries need to be answered, even if no notification to the user is needed.
    await query.answer(text=first.notice if first and first.notice else None)
    if isinstance(query.message, Message):
        await deliver(query.message, context, user.id, result, edit_first=True)


async def staff_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take an admin's message as the answer (or title) they were asked for; else pass it on."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    if message.chat.type != ChatType.PRIVATE or user.id not in settings_of(context).linli_admin_ids:
        return
    desk = desk_of(context)
    if not desk.awaiting(user.id):
        return  # an ordinary question: the resident handlers answer it
    result = await asyncio.to_thread(desk.take, user.id, message.text)
    await deliver(message, context, user.id, result)
    raise ApplicationHandlerStop  # the message was the answer, not a question


async def deliver(message: Message, context: ContextTypes.DEFAULT_TYPE, admin: int,
                  result: DeskResult, edit_first: bool = False) -> None:
    """Send the desk's replies; reload after a staff answer; notify the waiting residents."""
    for number, reply in enumerate(result.replies):
        if reply.edit and reply.pieces and edit_first and number == 0:
            await message.edit_text(reply.html(), parse_mode=ParseMode.HTML,
                                    reply_markup=markup(reply))
        elif reply.pieces:
            await send(message, reply)
    if result.reload:
        live = desk_of(context).conversation.live
        while live.reloading:  # another admin's /reload: the answer needs a reload after it
            await asyncio.sleep(0.2)
        await reload_and_report(message, context)
        await deliver(message, context, admin,
                      await asyncio.to_thread(desk_of(context).saved, admin))
    await notify(context.application, result.notifications)


async def notify(application: Application, notifications: list[Notification]) -> None:
    """Send each resident their answer (once: the chat id was deleted when claimed)."""
    for notification in notifications:
        reply = notification.reply
        try:
            await application.bot.send_message(notification.chat_id, reply.html(),
                                               parse_mode=ParseMode.HTML,
                                               reply_markup=markup(reply))
        except TelegramError as err:  # blocked the bot, or the chat is gone: not retried
            logger.warning("could not notify a resident: %s", err)


async def purge_notifications(application: Application) -> None:
    """Delete expired notification chat ids now, then every PURGE_SECONDS."""
    conversation = application.bot_data["conversation"]
    settings = application.bot_data["settings"]
    while True:
        await asyncio.to_thread(purge_expired, conversation.records, settings.linli_notify_days)
        await asyncio.sleep(PURGE_SECONDS)

