"""The `linli` command: one entry point for every subcommand of every package.

Each subcommand's work lives in its package (`corpus.cli`, `retrieval.cli`, `bot.ops`,
`bot.run`); this module parses and dispatches, importing them lazily, and never
imports `telegram` itself.
"""

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.instance import AlreadyRunning
from bot.records import RecordsError
from bot.settings import SettingsError, load_settings
from corpus import cli as corpus_cli
from corpus.models import ArticleFormatError, CorpusError
from retrieval import cli as retrieval_cli

logger = logging.getLogger(__name__)

# Errors a user can fix; anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[Exception], ...] = (CorpusError, ArticleFormatError, OSError,
                                             ValueError, RecordsError, AlreadyRunning)


def build_parser() -> argparse.ArgumentParser:
    """Assemble the `linli` parser from each package's commands."""
    parser = argparse.ArgumentParser(prog="linli", description="邻里: answers from local news")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--env-file", type=Path, metavar="FILE",
                        help="settings file to read (default: LINLI_ENV_FILE, else .env in the "
                        "current directory if there is one)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    corpus_cli.add_commands(commands)
    retrieval_cli.add_commands(commands)
    add_bot_commands(commands)
    return parser


def add_bot_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the bot's own subcommands."""
    run = commands.add_parser("run", help="serve Telegram (long polling, or --webhook)")
    run.add_argument("--webhook", metavar="URL", help="public https URL Telegram posts to")
    run.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:8443",
                     help="where the webhook server listens (default 127.0.0.1:8443)")
    run.add_argument("--web", metavar="HOST:PORT", nargs="?", const="127.0.0.1:8080",
                     help="also serve the web chat page (and WeChat) here, in the same "
                     "process (default 127.0.0.1:8080)")
    run.set_defaults(handler=run_cli)
    web = commands.add_parser("web", help="serve the web chat page (and WeChat when "
                              "LINLI_WECHAT_TOKEN is set); no Telegram token needed")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                     "127.0.0.1; 0.0.0.0 in a container)")
    web.add_argument("--port", type=retrieval_cli.positive_int, default=8080,
                     help="port (default 8080)")
    web.set_defaults(handler=web_cli)
    chat = commands.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    chat.set_defaults(handler=chat_cli)
    doctor = commands.add_parser("doctor", help="check settings, token, corpus, data, index")
    doctor.set_defaults(handler=doctor_cli)
    stats = commands.add_parser("stats", help="questions, share answered, feedback, top misses")
    stats.add_argument("--days", type=retrieval_cli.positive_int, default=7,
                       help="how many days back (default 7)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--chart", type=Path, metavar="FILE.png",
                       help="also draw questions per day and share answered")
    stats.set_defaults(handler=stats_cli)
    pending = commands.add_parser("pending", help="questions waiting for a staff answer, "
                                  "grouped, most asked first")
    pending.add_argument("--days", type=retrieval_cli.positive_int, default=30,
                         help="how many days back (default 30)")
    pending.add_argument("--json", action="store_true", help="print JSON")
    pending.set_defaults(handler=pending_cli)
    staff_bench = commands.add_parser(
        "bench-staff", help="measure the staff loop: answer rate on the gov sets as the queue "
        "is answered (--gov), or 保存 to the next answer on an archive (--data --files)")
    source = staff_bench.add_mutually_exclusive_group(required=True)
    source.add_argument("--gov", type=Path, metavar="DIR",
                        help="the gov sets' folder (messages/, policy/) or one set")
    source.add_argument("--data", type=Path, metavar="DIR",
                        help="the CMRC 2018 folder the archive of --files files is made from")
    staff_bench.add_argument("--files", type=retrieval_cli.positive_int, default=33000,
                             help="with --data: article files in the archive (default 33000)")
    staff_bench.add_argument("--runs", type=retrieval_cli.positive_int, default=5,
                             help="with --data: staff answers saved and timed (default 5)")
    staff_bench.add_argument("--json", action="store_true", help="print JSON")
    staff_bench.set_defaults(handler=bench_staff_cli)
    backup = commands.add_parser("backup", help="copy the records database while the bot runs")
    backup.add_argument("out", type=Path, help="the backup file to write, e.g. linli-2021-06.db")
    backup.set_defaults(handler=backup_cli)
    link = commands.add_parser("link", help="print the t.me link that opens the bot with a "
                               "question answered (for a notice board or a QR code)")
    link.add_argument("question", help="the question, e.g. \"老年人活动区在哪里？\"")
    link.add_argument("--bot", metavar="USERNAME",
                      help="the bot's username (default: ask Telegram with the token)")
    link.set_defaults(handler=link_cli)
    health = commands.add_parser("health", help="exit 0 if the running bot is alive (heartbeat)")
    health.set_defaults(handler=health_cli)


def link_cli(args: argparse.Namespace) -> int:
    """Print the deep link of a question."""
    from bot.channels.telegram.deep_link import ask_username, encode_question, question_link

    encode_question(args.question)  # a question too long fails before asking Telegram
    username = args.bot or ask_username(args.settings)
    print(question_link(username, args.question))
    return 0


def doctor_cli(args: argparse.Namespace) -> int:
    """Check the deployment."""
    from bot.ops.doctor import run_doctor

    return run_doctor(args.settings)


def stats_cli(args: argparse.Namespace) -> int:
    """Print the statistics."""
    from bot.ops.stats import run_stats

    return run_stats(args.settings, args.days, args.json, args.chart)


def pending_cli(args: argparse.Namespace) -> int:
    """Print the staff queue."""
    from bot.ops.pending import run_pending

    return run_pending(args.settings, args.days, args.json)


def bench_staff_cli(args: argparse.Namespace) -> int:
    """Measure the staff loop (see bot/staff/bench.py and bot/staff/save_bench.py)."""
    if args.gov:
        from bot.staff.bench import run_staff_loop

        return run_staff_loop(args.gov, args.json)
    from bot.staff.save_bench import run_save_bench

    return run_save_bench(args.data, args.files, args.runs, args.json)


def backup_cli(args: argparse.Namespace) -> int:
    """Back up the records database consistently (SQLite's online backup)."""
    from bot.ops.backup import run_backup

    return run_backup(args.settings, args.out)


def health_cli(args: argparse.Namespace) -> int:
    """Tell whether the bot's heartbeat is recent."""
    from bot.app import HEARTBEAT_FILE, HEARTBEAT_SECONDS

    beat = args.settings.linli_data_dir / HEARTBEAT_FILE
    age = time.time() - beat.stat().st_mtime if beat.exists() else None
    if age is None or age > 3 * HEARTBEAT_SECONDS:
        print(f"unhealthy: no heartbeat in {beat} for {age or 0:.0f} s" if age else
              f"unhealthy: {beat} does not exist (is `linli run` running?)", file=sys.stderr)
        return 1
    print(f"healthy: heartbeat {age:.0f} s ago")
    return 0


def run_cli(args: argparse.Namespace) -> int:
    """Serve Telegram."""
    from bot.run import run_bot

    return run_bot(args.settings, args.webhook, args.listen if args.webhook else None,
                   web=args.web)


def web_cli(args: argparse.Namespace) -> int:
    """Serve the web page and WeChat."""
    from bot.channels.web.server import run_web

    return run_web(args.settings, args.host, args.port)


def chat_cli(args: argparse.Namespace) -> int:
    """Chat in the terminal."""
    from bot.ops.chat import run_chat

    return run_chat(args.settings)


def configure_logging(verbose: bool, log_format: str = "text") -> None:
    """Configure logging once, at the entry point; silence jieba's start-up chatter."""
    level = logging.DEBUG if verbose else logging.INFO
    if log_format == "json":
        from bot.ops.logs import JsonFormatter

        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            force=True)
    # matplotlib logs its font cache and unit choices at INFO: not the operator's business.
    for noisy in ("jieba", "httpx", "httpcore", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # trafilatura warns "discarding data" for a page `linli import` then refuses, saying why.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    import jieba

    jieba.setLogLevel(logging.WARNING)


# What to do about an operating-system error, by its errno name.
_OS_FIXES = {"ENOSPC": "free space on that disk (or give linli a bigger one), then try again",
             "EDQUOT": "the disk quota is used up; free space, then try again",
             "EACCES": "make it readable and writable by the user linli runs as",
             "EROFS": "that file system is read-only; point linli at a writable folder"}


def describe_error(err: Exception) -> str:
    """Say an error as one line: an OS error names its path (and the fix when known)."""
    if not isinstance(err, OSError) or err.strerror is None:
        return str(err)
    import errno

    where = err.filename if err.filename is not None else "(path unknown)"
    fix = _OS_FIXES.get(errno.errorcode.get(err.errno or 0, ""), "")
    return f"{where}: {err.strerror}" + (f"; {fix}" if fix else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `linli` subcommand; print `error: ...` and exit 1 (2 for settings) on failure."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    configure_logging(args.verbose, settings.linli_log_format)
    args.settings = settings
    args.default_corpus = settings.linli_corpus_dir
    try:
        return int(args.handler(args))
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except USER_ERRORS as err:
        print(f"error: {describe_error(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
