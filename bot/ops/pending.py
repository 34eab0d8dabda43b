"""`linli pending`: the staff queue from the command line (text, or JSON with --json).

It reads the records database only (no index is loaded), so a pairing whose article
changed is not flagged here; /pending in the bot flags it. Imports bot.records, bot.staff.
"""

import json
import time

from bot.records import Records
from bot.settings import Settings
from bot.staff.queue import PendingGroup, pending_groups
from corpus.models import CorpusError


def read_queue(settings: Settings, days: int) -> list[PendingGroup]:
    """Read the queue of the last `days` days from the records database."""
    if days < 1:
        raise ValueError(f"--days {days}: give a number of days of at least 1")
    if not settings.database_path.exists():
        raise CorpusError(f"{settings.database_path}: no records yet (the bot creates them "
                          "with its first question); check LINLI_DATA_DIR")
    records = Records(settings.database_path)
    try:
        return pending_groups(records, days)
    finally:
        records.close()


def format_queue(groups: list[PendingGroup], days: int) -> str:
    """The queue as lines, most asked and newest first."""
    if not groups:
        return f"最近 {days} 天没有待答复的问题。"
    lines = [f"待答复的问题（最近 {days} 天，共 {len(groups)} 个；问得多的、新近的在前）："]
    for i, group in enumerate(groups, 1):
        when = time.strftime("%Y-%m-%d", time.localtime(group.last_asked))
        lines.append(f"{i}. {group.question}（{group.asked} 次，最近 {when}；{group.kinds()}）")
    return "\n".join(lines)


def run_pending(settings: Settings, days: int, as_json: bool) -> int:
    """Print the queue."""
    groups = read_queue(settings, days)
    if as_json:
        print(json.dumps([g.as_json() for g in groups], ensure_ascii=False, indent=1))
    else:
        print(format_queue(groups, days))
    return 0
