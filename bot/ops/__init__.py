"""The operator's commands behind `linli`: chat, doctor, stats, backup, and the log format.

May import the Telegram-free core of `bot`, `corpus` and `retrieval`; `bot.cli` calls
them. `chat` opens the conversation through `bot.app`; `doctor` asks the Bot API.
"""
