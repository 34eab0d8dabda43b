"""The WeChat official account (公众号) endpoint: signed XML in, passive text replies out.

`crypto` holds the signature and safe mode, `messages` the XML, `format` what a follower
reads, `session` what is remembered between messages, `endpoint` the aiohttp handlers.
The package may import aiohttp, cryptography, the Telegram-free core and bot.channels'
shared modules; never the Telegram or the web channel.
"""
