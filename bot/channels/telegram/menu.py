"""The command menu Telegram shows: residents' commands for all, admin ones for admins only."""

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

logger = logging.getLogger(__name__)

RESIDENT_COMMANDS = [
    BotCommand("start", "开始：看看可以问什么"),
    BotCommand("help", "怎么提问"),
    BotCommand("about", "关于邻里：收录了哪些报道"),
    BotCommand("ask", "在群里提问：/ask 问题"),
]
ADMIN_COMMANDS = [
    BotCommand("reload", "重新加载文章（管理员）"),
    BotCommand("stats", "提问统计（管理员）"),
    BotCommand("pending", "待答复的问题：回答、选段落（管理员）"),
    BotCommand("import", "导入网页、Word、PDF 文章（管理员）"),
]


async def set_commands(bot: Bot, admin_ids: Iterable[int]) -> None:
    """Register the menu: residents' commands everywhere, admin ones in admins' private chats."""
    try:
        await bot.set_my_commands(RESIDENT_COMMANDS)
    except TelegramError:
        logger.warning("could not set the command menu", exc_info=True)
    for admin in sorted(admin_ids):
        # An admin's private chat has the admin's user id; no other chat gets these.
        try:
            await bot.set_my_commands(RESIDENT_COMMANDS + ADMIN_COMMANDS,
                                      scope=BotCommandScopeChat(admin))
        except TelegramError:  # e.g. the admin has never opened a chat with the bot
            logger.warning("could not set the admin menu for an admin chat", exc_info=True)
