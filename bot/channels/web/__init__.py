"""The web chat page and its JSON API, served by linli itself (aiohttp).

`server` wires the application; `api` answers /api/*; `page` serves the page and its
assets; `guard` holds the security headers, the CSRF check and the per-client limits;
`payload` turns the conversation's answers into the API's JSON. The package may import
aiohttp, the Telegram-free core, bot.channels' shared modules and bot.channels.wechat
(the server mounts /wechat); nothing of it imports the Telegram channel.
"""
