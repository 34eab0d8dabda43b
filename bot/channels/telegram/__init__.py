"""The Telegram channel: python-telegram-bot handlers, the command menu, deep links.

May import `telegram`, the Telegram-free core of `bot` and `corpus`; nothing outside
this package imports its handlers except `bot.app`, which wires them.
"""
