"""`linli stats`: the figures of /stats from the command line, and a PNG chart for reports.

Telegram-free: may import the bot's records and replies, and matplotlib (lazily).
"""

import json
import sys
from dataclasses import asdict
from pathlib import Path

from bot.records import Records, Stats
from bot.replies import stats_reply
from bot.settings import Settings


def read_stats(settings: Settings, days: int) -> Stats:
    """Read the figures of the last `days` days from the records database (zero if none yet)."""
    if days < 1:
        raise ValueError(f"--days {days}: give a number of days of at least 1")
    if not settings.database_path.exists():
        # A fresh install: zero figures, so that a monitoring script keeps working; the
        # note (on stderr, the JSON stays clean) catches a mistyped LINLI_DATA_DIR.
        print(f"note: {settings.database_path}: no records yet (the bot creates them with its "
              "first question); the figures are zero. Check LINLI_DATA_DIR if the bot has "
              "been answering", file=sys.stderr)
        return Stats(days=days)
    records = Records(settings.database_path)
    try:
        return records.stats(days)
    finally:
        records.close()


def write_chart(stats: Stats, path: Path) -> None:
    """Draw questions per day (bars) and the share answered (line) into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    days = [day[5:] for day, _, _ in stats.per_day]
    asked = [n for _, n, _ in stats.per_day]
    share = [100 * answered / n if n else 0 for _, n, answered in stats.per_day]
    figure, left = plt.subplots(figsize=(8, 4), dpi=100)
    # Positions with the days as labels: day strings as categories make matplotlib log
    # "Using categorical units..." for every chart (they parse as dates).
    positions = list(range(len(days)))
    left.bar(positions, asked, color="#4C72B0", label="questions")
    left.set_xticks(positions, days)
    left.set_ylabel("questions per day")
    right = left.twinx()
    right.plot(positions, share, color="#DD8452", marker="o", label="answered %")
    right.set_ylim(0, 105)
    right.set_ylabel("answered (%)")
    left.set_title(f"linli: last {stats.days} days, {stats.questions} questions, "
                   f"{stats.answered_share:.0%} answered")
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def run_stats(settings: Settings, days: int, as_json: bool, chart: Path | None) -> int:
    """Print the figures (text or JSON) and write the chart if asked."""
    stats = read_stats(settings, days)
    if as_json:
        print(json.dumps({**asdict(stats), "answered_share": stats.answered_share},
                         ensure_ascii=False, indent=1))
    else:
        print(stats_reply(stats).plain())
    if chart:
        write_chart(stats, chart)
        if not as_json:
            print(f"chart: {chart}")
    return 0
