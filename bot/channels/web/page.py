"""The chat page (GET /), its assets (GET /static/...) and the one-line embed (GET /embed.js).

Every asset is served by linli itself (no CDN): the page works on an intranet. The page's
text from the corpus (the example questions) is HTML-escaped here; everything the API
returns is set by the script as text, never as HTML. May import bot.conversation,
bot.replies and aiohttp.
"""

import asyncio
import html
from collections.abc import Awaitable, Callable
from importlib import resources
from string import Template

from aiohttp import web

from bot import replies
from bot.channels.text import MAX_INPUT_CHARS
from bot.conversation import Conversation

STATIC = resources.files("bot.channels.web") / "static"
ASSETS = {"chat.css": "text/css", "chat.js": "text/javascript", "icon.svg": "image/svg+xml"}
CACHE = "public, max-age=300"  # a new release reaches residents within minutes
PAGE_KEY: web.AppKey[Template] = web.AppKey("page", Template)


def read_asset(name: str) -> str:
    """Read one of the page's files shipped in the package."""
    return (STATIC / name).read_text(encoding="utf-8")


def render_page(template: Template, examples: list[str], embedded: bool) -> str:
    """Fill the page template: the welcome and the example questions, escaped."""
    items = "\n".join(f'<li><button type="button" class="suggestion">{html.escape(q)}'
                      "</button></li>" for q in examples)
    return template.substitute(welcome=html.escape(replies.WELCOME).replace("\n", "<br>"),
                               examples=items,
                               max_chars=MAX_INPUT_CHARS,
                               body_class="embedded" if embedded else "standalone")


def page_handler(conversation: Conversation) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /: the chat page."""

    async def page(request: web.Request) -> web.Response:
        examples = await asyncio.to_thread(conversation.example_questions)
        text = render_page(request.app[PAGE_KEY], examples, "embed" in request.query)
        return web.Response(text=text, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-cache"})

    return page


async def asset(request: web.Request) -> web.Response:
    """GET /static/<name>: the page's stylesheet and script."""
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(text=read_asset(name), content_type=ASSETS[name], charset="utf-8",
                        headers={"Cache-Control": CACHE})


async def embed(request: web.Request) -> web.Response:
    """GET /embed.js: the script a district's site loads with one <script> line."""
    # Another site loads it: it must be readable cross-origin.
    return web.Response(text=read_asset("embed.js"), content_type="text/javascript",
                        charset="utf-8", headers={"Cache-Control": CACHE,
                                                  "Cross-Origin-Resource-Policy": "cross-origin"})


def add_routes(app: web.Application, conversation: Conversation) -> None:
    """Add the page's routes."""
    app[PAGE_KEY] = Template(read_asset("chat.html"))
    app.router.add_get("/", page_handler(conversation))
    app.router.add_get("/static/{name}", asset)
    app.router.add_get("/embed.js", embed)
