"""One `linli run` per data folder: a lock file held while the bot runs, naming its holder.

Two bots on one data folder would share the records and answer each update twice (or,
polling, knock each other off Telegram with `Conflict: terminated by other getUpdates`).
The lock is an advisory `flock` on `linli.lock` in the data folder: the kernel drops it
when the process ends, however it ends, so a crash never leaves a stale lock behind. The
file's text says who holds it (pid, host, start time) for the second one's message.

May import nothing of linli.
"""

import datetime as dt
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

LOCK_FILE = "linli.lock"


class AlreadyRunning(Exception):
    """Another `linli run` holds the data folder; the message names it and what to do."""


class InstanceLock:
    """The data folder's lock, held from `acquire` until `release` or the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> "InstanceLock":
        """Take the lock, or raise `AlreadyRunning` naming the process that has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held while running)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that has not said who it is"
            handle.close()
            raise AlreadyRunning(
                f"{self.path.parent}: another linli run uses this data folder ({holder}); "
                "stop it first (systemctl stop linli, or docker compose down), or give this "
                "one its own LINLI_DATA_DIR") from None
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Let the lock go (the process's end does it too)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
