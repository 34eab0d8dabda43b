#!/usr/bin/env python3
"""Build the Docker image and smoke-test it with docker or podman, against a fake Bot API.

Run from a checkout with the dev extra installed (the fake Bot API server is the tests' own):

    .venv/bin/python deploy/smoke_image.py                  # docker if it answers, else podman
    .venv/bin/python deploy/smoke_image.py --engine podman --build-arg PYTHON_IMAGE=...

Steps: build deploy/Dockerfile; start the image (host network, so that it reaches the fake
Bot API on 127.0.0.1); wait until it polls; ask one question and check the answer cites an
article; check it runs as uid 10001; `linli health` and `linli doctor` inside the container
must exit 0; stop it (SIGTERM) and check it exits 0. Exit 0 when every step passed, 1 when
one failed, 2 when no engine answers.
"""

import argparse
import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

QUESTION = "老年人活动区在哪里"
ADMIN_ID = 4242


class SmokeError(Exception):
    """A step of the smoke test failed; the message says which and what was seen."""


def find_engine(wanted: str | None) -> str | None:
    """Return the engine to use: the one asked for, else docker if it answers, else podman."""
    for name in [wanted] if wanted else ["docker", "podman"]:
        if shutil.which(name) and subprocess.run([name, "info"], capture_output=True,
                                                 check=False).returncode == 0:
            return name
    return None


def engine_command(args: argparse.Namespace, *words: str) -> list[str]:
    """The engine, its global options, then the words."""
    return [args.engine, *shlex.split(args.engine_options), *words]


def run(command: list[str], step: str, timeout: float = 120) -> str:
    """Run a command; raise SmokeError with its output when it fails."""
    print(f"$ {shlex.join(command).replace(TOKEN, '<token>')}", flush=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            check=False)
    if result.returncode != 0:
        raise SmokeError(f"{step} failed (exit {result.returncode}):\n"
                         f"{result.stdout}{result.stderr}")
    return result.stdout


def build(args: argparse.Namespace) -> None:
    """Build the image from the repository root."""
    started = time.monotonic()
    extra = [word for arg in args.build_arg for word in ("--build-arg", arg)]
    run(engine_command(args, "build", *shlex.split(args.build_options), *extra, "-f",
                       str(ROOT / "deploy" / "Dockerfile"), "-t", args.tag, str(ROOT)),
        "build", timeout=1800)
    print(f"built {args.tag} in {time.monotonic() - started:.0f} s", flush=True)


def start(args: argparse.Namespace, telegram: FakeTelegram, name: str) -> None:
    """Start the image in the background, talking to the fake Bot API."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": telegram.base_url,
           "TELEGRAM_BASE_FILE_URL": telegram.base_file_url, "LINLI_ADMIN_IDS": str(ADMIN_ID)}
    options = [word for key, value in env.items() for word in ("-e", f"{key}={value}")]
    run(engine_command(args, "run", "-d", "--name", name, "--network", "host",
                       *shlex.split(args.run_options), *options, args.tag), "start")


def running(args: argparse.Namespace, name: str) -> bool:
    """Tell whether the container is still running."""
    state = subprocess.run(engine_command(args, "inspect", "-f", "{{.State.Running}}", name),
                           capture_output=True, text=True, check=False).stdout.strip()
    return state == "true"


async def answer_one_question(args: argparse.Namespace, telegram: FakeTelegram,
                              name: str) -> None:
    """Wait until the bot polls, ask one question, check the answer cites an article."""
    started = time.monotonic()
    while not telegram.sent("deleteWebhook"):
        if time.monotonic() - started > 180:
            raise SmokeError("the bot did not start polling within 180 s")
        if not await asyncio.to_thread(running, args, name):
            raise SmokeError("the container stopped before polling")
        await asyncio.sleep(0.5)
    print(f"polling after {time.monotonic() - started:.1f} s", flush=True)
    await telegram.send_text(QUESTION, user_id=1001)
    [reply] = await telegram.wait_for("sendMessage", timeout=60)
    if "📰《" not in reply["text"]:
        raise SmokeError(f"the answer cites no article: {reply['text']!r}")
    print(f"answered {QUESTION}: {reply['text'].splitlines()[-1]}", flush=True)


def stop(args: argparse.Namespace, name: str) -> None:
    """Stop the container with SIGTERM; it must exit 0."""
    run(engine_command(args, "stop", "-t", "30", name), "stop")
    code = run(engine_command(args, "inspect", "-f", "{{.State.ExitCode}}", name),
               "inspect").strip()
    if code != "0":
        raise SmokeError(f"the bot exited {code} on SIGTERM, not 0")
    print("stopped cleanly (exit 0)", flush=True)


async def smoke(args: argparse.Namespace) -> None:
    """Run every step; the container is removed whatever happens."""
    name = f"linli-smoke-{os.getpid()}"
    telegram = FakeTelegram()
    await telegram.start()
    try:
        await asyncio.to_thread(start, args, telegram, name)
        await answer_one_question(args, telegram, name)
        user = await asyncio.to_thread(run, engine_command(args, "exec", name, "id", "-u"),
                                       "id -u")
        if user.strip() != "10001":
            raise SmokeError(f"the bot runs as uid {user.strip()}, not 10001")
        # In threads: the fake Bot API in this event loop must answer doctor's getMe.
        for check in ("health", "doctor"):
            print(await asyncio.to_thread(run, engine_command(args, "exec", name, "linli",
                                                               check), f"linli {check}"),
                  end="", flush=True)
        await asyncio.to_thread(stop, args, name)
    except (SmokeError, TimeoutError):
        logs = subprocess.run(engine_command(args, "logs", name), capture_output=True,
                              text=True, check=False)
        print(f"--- container log ---\n{logs.stdout}{logs.stderr}", file=sys.stderr)
        raise
    finally:
        subprocess.run(engine_command(args, "rm", "-f", name), capture_output=True,
                       check=False)
        await telegram.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["docker", "podman"],
                        help="default: docker if it answers, else podman")
    parser.add_argument("--tag", default="linli:smoke", help="image tag (default linli:smoke)")
    parser.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE",
                        help="passed to the build, e.g. PYTHON_IMAGE=python:3.11-slim-bookworm")
    parser.add_argument("--no-build", action="store_true", help="test the image already built")
    parser.add_argument("--engine-options", default="", metavar="OPTIONS",
                        help="global engine options, e.g. '--runtime runc' (podman)")
    parser.add_argument("--build-options", default="", metavar="OPTIONS",
                        help="more build options, e.g. '--isolation chroot' (podman)")
    parser.add_argument("--run-options", default="", metavar="OPTIONS",
                        help="more run options, e.g. '--ulimit nofile=4096:4096'")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build and smoke-test the image; exit 0 passed, 1 failed, 2 no engine."""
    args = parse_args(argv)
    args.engine = find_engine(args.engine)
    if args.engine is None:
        print("error: no container engine answers (docker info / podman info); "
              "install docker or podman, or run where one is", file=sys.stderr)
        return 2
    try:
        if not args.no_build:
            build(args)
        asyncio.run(smoke(args))
    except (SmokeError, TimeoutError, subprocess.TimeoutExpired) as err:
        print(f"FAIL: {err or 'timed out'}", file=sys.stderr)
        return 1
    print(f"PASS: {args.tag} built with {args.engine}, answered, healthy, doctor ok, "
          "stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
