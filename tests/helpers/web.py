"""Run linli's web server (page, API, WeChat) on 127.0.0.1 for a test, and talk JSON to it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.web.server import build_web_app
from bot.conversation import Conversation
from bot.settings import Settings

KEY = b"k" * 32


@dataclass
class WebServer:
    """A running web app, its base URL and a client session."""

    app: web.Application
    url: str
    session: aiohttp.ClientSession

    async def ask(self, question: str, conversation: str | None = "c" * 22,
                  client: str | None = None, **headers: str) -> tuple[int, dict[str, Any]]:
        """POST /api/ask as the page does; `client` is the X-Real-IP nginx would send."""
        body = {"question": question} | ({"conversation": conversation} if conversation else {})
        if client:
            headers["X-Real-IP"] = client
        async with self.session.post(f"{self.url}/api/ask", json=body,
                                     headers=headers) as response:
            return response.status, await response.json()

    async def post(self, path: str, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
        async with self.session.post(f"{self.url}{path}", json=body,
                                     headers=headers) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> tuple[int, dict[str, Any]]:
        async with self.session.get(f"{self.url}{path}") as response:
            return response.status, await response.json()


@asynccontextmanager
async def running_web(conversation: Conversation, settings: Settings,
                      key: bytes = KEY, port: int = 0) -> AsyncIterator[WebServer]:
    """Serve the web app on 127.0.0.1 (a free port unless given) until the block ends."""
    app = build_web_app(conversation, settings, key)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session:
            yield WebServer(app, f"http://{host}:{port}", session)
    finally:
        await runner.cleanup()
