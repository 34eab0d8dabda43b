"""`linli backup`: copy the records database while the bot keeps writing to it.

Telegram-free: may import the bot's settings and records.
"""

import sys
from pathlib import Path

from bot.records import Records
from bot.settings import Settings


def run_backup(settings: Settings, out: Path) -> int:
    """Back up the records database consistently (SQLite's online backup)."""
    source = settings.database_path
    if not source.exists():
        print(f"error: {source}: no records database yet; check LINLI_DATA_DIR", file=sys.stderr)
        return 1
    if out.exists():
        print(f"error: {out}: already exists; choose a new file name", file=sys.stderr)
        return 1
    records = Records(source)
    try:
        records.backup(out)
    finally:
        records.close()
    print(f"backed up {source} to {out}")
    return 0
