"""The non-Docker deployment, for real: doctor, run, answer, SIGTERM, restart, records intact.

`linli` runs as a separate process, installed in this virtual environment as the
README says, talking HTTP to the fake Bot API server.
"""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.helpers.fake_telegram import TOKEN, FakeTelegram
from tests.helpers.harness import ADMIN_ID

LINLI = str(Path(sys.executable).parent / "linli")


def service_env(telegram: FakeTelegram, corpus_dir: Path, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": telegram.base_url,
            "TELEGRAM_BASE_FILE_URL": telegram.base_file_url, "LINLI_ADMIN_IDS": str(ADMIN_ID),
            "LINLI_CORPUS_DIR": str(corpus_dir), "LINLI_DATA_DIR": str(data_dir),
            "LINLI_LOG_FORMAT": "json"}


async def linli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LINLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def serve_and_ask(env: dict[str, str], telegram: FakeTelegram, question: str) -> str:
    """Start `linli run`, ask one question, stop it with SIGTERM; return its log."""
    process = await asyncio.create_subprocess_exec(
        LINLI, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await telegram.wait_for("deleteWebhook", timeout=60)  # polling has begun
        await telegram.send_text(question)
        [reply] = await telegram.wait_for("sendMessage", timeout=30)
        assert "📰《" in reply["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return err.decode()


@pytest.mark.slow
async def test_doctor_run_sigterm_restart_keeps_records(
        telegram: FakeTelegram, corpus_dir: Path, tmp_path: Path) -> None:
    env = service_env(telegram, corpus_dir, tmp_path / "data")
    code, out, _ = await linli(env, "doctor")
    assert code == 1 and "FAIL index" in out and "ok   token: accepted by the Bot API" in out

    assert (await linli(env, "index"))[0] == 0
    code, out, _ = await linli(env, "doctor")
    assert code == 0, out
    # settings, token, web, corpus, data, index
    assert [line.split()[0] for line in out.splitlines() if line[:1] != " "] == ["ok"] * 6

    log = await serve_and_ask(env, telegram, "老年人活动区在哪里")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    asked = [line for line in lines if line["message"].startswith("question answered=")]
    assert asked and asked[0]["answered"] is True and "question" not in asked[0]
    assert "老年人活动区" not in log  # no question text at INFO unless enabled
    assert TOKEN not in log and TOKEN.split(":")[1] not in log

    await serve_and_ask(env, telegram, "哪里可以免费量血压")
    code, out, _ = await linli(env, "stats", "--json", "--chart", str(tmp_path / "c.png"))
    figures = json.loads(out)
    assert code == 0 and figures["questions"] == 2 and figures["answered"] == 2
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
