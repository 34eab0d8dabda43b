"""A real headless Chromium driven over the DevTools protocol (aiohttp's WebSocket client).

Debian's `chromium` package; no driver binary and no Python package beyond aiohttp. A test
without Chromium is skipped with the reason, except in CI (CI=true), where it fails:
.ci/run installs it.
"""

import asyncio
import base64
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

KEYS = {"Tab": (9, ""), "Enter": (13, "\r"), " ": (32, " ")}
CODES = {"Tab": "Tab", "Enter": "Enter", " ": "Space"}


def chromium() -> str:
    """The Chromium binary, or skip (fail in CI) saying how to get it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed in CI: .ci/run must apt-get install chromium")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


class Page:
    """One browser tab: commands, events, and what a user does (type, press keys)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for frame in self.socket:
            message = json.loads(frame.data)
            if "id" in message and message["id"] in self._waiting:
                self._waiting.pop(message["id"]).set_result(message)
            else:
                self.events.append(message)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        await self.socket.send_json({"id": ident, "method": method, "params": params})
        message = await asyncio.wait_for(future, 30)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message.get("result", {})

    async def js(self, expression: str, context: int | None = None) -> Any:
        """Evaluate JavaScript in the page (or a frame's context) and return its value."""
        where = {"contextId": context} if context is not None else {}
        result = await self.send("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True, **where)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> None:
        """Wait until the expression is truthy."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if await self.js(f"!!({expression})"):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            await asyncio.sleep(0.05)

    async def frame_context(self, url_part: str) -> int | None:
        """A context to run script in the child frame whose URL holds `url_part`, or None."""
        tree = (await self.send("Page.getFrameTree"))["frameTree"]
        for child in tree.get("childFrames", []):
            if url_part in child["frame"]["url"]:
                world = await self.send("Page.createIsolatedWorld",
                                        frameId=child["frame"]["id"])
                return int(world["executionContextId"])
        return None

    async def open(self, url: str, width: int = 1280, height: int = 900,
                   mobile: bool = False) -> None:
        """Load a page at a window size, and wait for its script to be ready."""
        await self.resize(width, height, mobile)
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def resize(self, width: int, height: int, mobile: bool = False) -> None:
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=2 if mobile else 1, mobile=mobile)

    async def type(self, text: str) -> None:
        """Type text into the focused element, as an input method would."""
        await self.send("Input.insertText", text=text)

    async def press(self, key: str, shift: bool = False) -> None:
        """Press and release a key (Tab, Enter or space)."""
        code, text = KEYS[key]
        common = {"key": key, "code": CODES[key], "windowsVirtualKeyCode": code,
                  "modifiers": 8 if shift else 0}
        await self.send("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    async def focused_label(self) -> str:
        return str(await self.js("(document.activeElement.textContent || "
                                 "document.activeElement.id || '').trim()"))

    async def tab_to(self, label: str, shift: bool = False, most: int = 30) -> int:
        """Press Tab (or Shift+Tab) until the focused element reads `label`; return how often."""
        for presses in range(1, most + 1):
            await self.press("Tab", shift)
            if await self.focused_label() == label:
                return presses
        raise AssertionError(f"{label!r} was not reached with {most} presses of Tab")

    async def screenshot(self, path: Path, width: int, mobile: bool = False,
                         height: int | None = None) -> None:
        """Save the page: the window `height` shows, or the whole page if not given."""
        if height is None:
            metrics = await self.send("Page.getLayoutMetrics")
            height = int(metrics["cssContentSize"]["height"])
        await self.resize(width, height, mobile)  # the sticky form then sits at the bottom
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def errors(self) -> list[str]:
        """The console errors and log errors (CSP violations among them) seen so far."""
        found = []
        for event in self.events:
            if event.get("method") == "Log.entryAdded" and \
                    event["params"]["entry"]["level"] == "error":
                found.append(event["params"]["entry"]["text"])
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(str(event["params"]["exceptionDetails"]))
        return found


@asynccontextmanager
async def browser() -> AsyncIterator[Page]:
    """Start headless Chromium with one tab; stop it afterwards."""
    binary = chromium()
    profile = Path(tempfile.mkdtemp(prefix="linli-chromium-"))
    process = await asyncio.create_subprocess_exec(
        binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", "--disable-dev-shm-usage", "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().count("\n") >= 1:
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json(content_type=None)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with session.ws_connect(url, max_msg_size=64 * 1024 * 1024) as socket:
                page = Page(socket)
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                yield page
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        shutil.rmtree(profile, ignore_errors=True)
