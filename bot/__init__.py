"""The bot: residents ask, it answers with a cited passage; admins keep the corpus.

Three groups. At the top, the Telegram-free core: `conversation` (what the bot does
with a question or a button), `replies` (what it says), `context` (each user's
follow-up context), `records`, `live_index`, `settings`, `uploads`; and the wiring:
`app`, `run`, `cli`. `channels/` holds the channels residents reach the bot through
(`channels.telegram`: the PTB handlers). `ops/` holds the operator's commands (chat,
doctor, stats, backup, logs). The core never imports `telegram` or a channel.
"""
