"""What every Telegram handler shares: the conversation, sending replies, the admin check.

May import `telegram` and the Telegram-free core of `bot`. The handlers of
`resident`, `inline`, `admin` and `importing` build on these public names.
"""

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatAction, ChatType
from telegram.error import Conflict, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import replies
from bot.conversation import Conversation
from bot.live_index import ReloadBusyError
from bot.replies import Reply
from bot.settings import Settings

logger = logging.getLogger(__name__)


def conversation_of(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    """Return the conversation the application was built with."""
    conversation: Conversation = context.bot_data["conversation"]
    return conversation


def settings_of(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    """Return the settings the application was built with."""
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


def _user_hash(context: ContextTypes.DEFAULT_TYPE, user: User | None) -> str | None:
    """Name a user in the log by the records' keyed hash, never by the raw id."""
    return conversation_of(context).records.user_hash(user.id) if user else None


async def require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str) -> bool:
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
    if user is not None and user.id in settings_of(context).linli_admin_ids:
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


async def reload_and_report(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reload the index off the event loop and tell the admin in `message`'s chat what it did."""
    live = conversation_of(context).live
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
    await send(message, fit(replies.reload_reply(outcome)))


def fit(reply: Reply) -> Reply:
    """Cut a long report so that it fits one Telegram message."""
    text = reply.plain()
    if len(text) <= replies.MAX_MESSAGE:
        return reply
    return Reply.text(text[: replies.MAX_MESSAGE - 20] + "\n……（已截断）", reply.buttons)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error first, then apologise to the user if there is one to tell."""
    if isinstance(context.error, Conflict):  # polling: another process has this token
        logger.error("another bot process is polling Telegram with this token (%s); stop it: "
                     "two bots on one token each miss updates. On this machine, a second "
                     "linli run on the same data folder would have refused to start",
                     context.error.message)
        return
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(context.error, Forbidden):
        return  # the user blocked the bot: nobody to tell
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(replies.APOLOGY)
        except TelegramError:
            logger.warning("could not send the apology either", exc_info=True)

