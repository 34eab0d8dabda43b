"""The `linli` command: one entry point for every subcommand of every package."""

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.settings import SettingsError, load_settings
from corpus import cli as corpus_cli
from corpus.models import ArticleFormatError, CorpusError
from retrieval import cli as retrieval_cli

logger = logging.getLogger(__name__)

# Errors a user can fix; anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[Exception], ...] = (CorpusError, ArticleFormatError, OSError,
                                             ValueError)


def build_parser() -> argparse.ArgumentParser:
    """Assemble the `linli` parser from each package's commands."""
    parser = argparse.ArgumentParser(prog="linli", description="邻里: answers from local news")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
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
    run.set_defaults(handler=run_command)
    chat = commands.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    chat.set_defaults(handler=chat_command)


def run_command(args: argparse.Namespace) -> int:
    """Serve Telegram."""
    from bot.run import run_bot

    return run_bot(args.settings, args.webhook, args.listen if args.webhook else None)


def chat_command(args: argparse.Namespace) -> int:
    """Chat in the terminal."""
    from bot.chat import run_chat

    return run_chat(args.settings)


def configure_logging(verbose: bool, log_format: str = "text") -> None:
    """Configure logging once, at the entry point; silence jieba's start-up chatter."""
    level = logging.DEBUG if verbose else logging.INFO
    if log_format == "json":
        from bot.logs import JsonFormatter

        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            force=True)
    for noisy in ("jieba", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import jieba

    jieba.setLogLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `linli` subcommand; print `error: ...` and exit 1 (2 for settings) on failure."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
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
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
