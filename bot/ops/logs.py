"""Log lines as JSON, for `LINLI_LOG_FORMAT=json`, and secrets kept out of every line.

Standard library only: `bot.cli` and `bot.run` install these at the entry point.
"""

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format each record as one JSON object, with any `extra=` fields kept."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    """Replace secrets (the bot token, and its part after the colon) in every log record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found = set()
        for secret in secrets:
            found.add(secret)
            _, colon, rest = secret.partition(":")
            if colon and len(rest) >= 16:  # a bot token: its secret half alone is secret too
                found.add(rest)
        self.secrets = sorted(found, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return `text` with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message, the traceback and any extra field; never drop the record."""
        try:
            record.msg, record.args = self.redact(record.getMessage()), None
        except (TypeError, ValueError):  # a malformed call: keep the bare format string
            record.msg, record.args = self.redact(str(record.msg)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


def install_redaction(secrets: Iterable[str]) -> RedactSecrets:
    """Redact `secrets` from every log handler and from tracebacks Python prints itself."""
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)

    def excepthook(kind: type[BaseException], error: BaseException,
                   tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, error, tb))
        sys.stderr.write(redactor.redact(text))

    sys.excepthook = excepthook
    return redactor
