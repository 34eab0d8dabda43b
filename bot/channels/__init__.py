"""Where residents and admins reach the bot: one package per channel.

A channel turns its platform's updates into calls on `bot.conversation` and renders
the `bot.replies.Reply` it gets back. Channels may import their platform's library
(telegram; aiohttp and cryptography for web/ and wechat/) and the Telegram-free core
(`bot.conversation`, `bot.replies`, `bot.records`, `bot.live_index`, `bot.settings`,
`bot.uploads`); the core never imports a channel, except that `bot.cli` and `bot.run`
start one on demand.
"""
