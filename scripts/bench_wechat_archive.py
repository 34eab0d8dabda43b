"""Time WeChat's and the page's replies from `linli web` on an archive of N files (33,000).

The archive is written as `linli bench --files` writes it (CMRC 2018 contexts as Markdown
files), indexed with `linli index`, then `linli web` is started as a process and a fake of
WeChat's servers posts signed (and, for half, encrypted) messages to /wechat. Each figure
is the HTTP round trip WeChat would wait for (its limit is 5 s); then the same questions
go to the page's POST /api/ask.

    .venv/bin/python scripts/bench_wechat_archive.py --data /work/shared/bench-data/cmrc2018
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.evaluation.archive_bench import write_archive  # noqa: E402
from retrieval.evaluation.cmrc import read_cmrc  # noqa: E402
from tests.helpers import fake_wechat  # noqa: E402

LINLI = str(Path(sys.executable).parent / "linli")


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_serving(url: str, process: asyncio.subprocess.Process) -> None:
    """Wait until `url` answers 200."""
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise RuntimeError("linli web stopped")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


async def timed_reply(wechat: fake_wechat.FakeWeChat, openid: str, text: str,
                      encrypted: bool) -> tuple[float, str]:
    """Send one message as WeChat does; return the round trip's seconds and the reply."""
    started = time.perf_counter()
    reply = await wechat.send_text(openid, text, encrypted)
    if reply.status != 200:
        raise RuntimeError(f"/wechat answered {reply.status}: {reply.body[:200]}")
    return time.perf_counter() - started, reply.content


async def measure(corpus: Path, data: Path, questions: list[str]) -> dict[str, object]:
    """Index the archive, start `linli web`, time WeChat's replies."""
    port = free_port()
    env = {**os.environ, "LINLI_CORPUS_DIR": str(corpus), "LINLI_DATA_DIR": str(data),
           "LINLI_USER_KEY": "bench-key-" + "x" * 20, "LINLI_WECHAT_TOKEN": fake_wechat.TOKEN,
           "LINLI_WECHAT_APP_ID": fake_wechat.APP_ID,
           "LINLI_WECHAT_AES_KEY": fake_wechat.AES_KEY}
    started = time.perf_counter()
    subprocess.run([LINLI, "index"], env=env, check=True, capture_output=True)
    row: dict[str, object] = {"linli_index_s": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        LINLI, "web", "--port", str(port), env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(f"{url}/static/chat.css", process)
        row["start_to_serving_s"] = round(time.perf_counter() - started, 2)
        async with fake_wechat.FakeWeChat(f"{url}/wechat") as wechat:
            first, _ = await timed_reply(wechat, "oBench0", questions[0], False)
            row["first_reply_s"] = round(first, 3)
            seconds = []
            for i, question in enumerate(questions):
                # A new follower every 9 questions keeps under the 10-a-minute limit.
                took, _ = await timed_reply(wechat, f"oBench{1 + i // 9}", question, i % 2 == 1)
                seconds.append(took)
            took, full = await timed_reply(wechat, f"oBench{1 + (len(questions) - 1) // 9}",
                                           "全文", True)
            row["full_text_s"], row["full_text_is_an_article"] = round(took, 3), "《" in full
        row |= {"questions": len(seconds), "wechat": figures(seconds),
                "page": figures(await page_replies(url, questions))}
    finally:
        process.send_signal(signal.SIGTERM)
        await process.communicate()
    return row


def figures(seconds: list[float]) -> dict[str, float]:
    """Median, 95th percentile and maximum in milliseconds, and how many took over 5 s."""
    seconds = sorted(seconds)
    return {"p50_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(seconds[int(len(seconds) * 0.95) - 1] * 1000, 1),
            "max_ms": round(seconds[-1] * 1000, 1), "over_5_s": sum(s > 5 for s in seconds)}


async def page_replies(url: str, questions: list[str]) -> list[float]:
    """Ask the questions through POST /api/ask as pages behind nginx do; return the seconds."""
    seconds = []
    async with aiohttp.ClientSession() as session:
        for i, question in enumerate(questions):
            # A new conversation every 9 questions, a new address every 29: under the limits.
            body = {"question": question, "conversation": f"bench-conversation-{i // 9:04d}"}
            started = time.perf_counter()
            async with session.post(f"{url}/api/ask", json=body,
                                    headers={"X-Real-IP": f"192.0.2.{i // 29 + 1}"}) as response:
                if response.status != 200:
                    raise RuntimeError(f"/api/ask answered {response.status}")
                await response.read()
            seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    """Write the archive, measure, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the CMRC 2018 folder")
    parser.add_argument("--files", type=int, default=33_000)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    articles, queries = read_cmrc(args.data)
    questions = [q["question"] for q in queries][: args.questions]
    with tempfile.TemporaryDirectory(prefix="linli-wechat-bench-") as folder:
        corpus, data = Path(folder, "corpus"), Path(folder, "data")
        corpus.mkdir()
        write_archive(articles, args.files, corpus)
        row = asyncio.run(measure(corpus, data, questions))
    row = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                      f"{platform.python_version()}", "files": args.files, **row}
    print(json.dumps(row, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
