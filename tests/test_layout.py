"""The bot's core stays free of Telegram: what a web or WeChat channel can build on."""

import subprocess
import sys

CORE = ["bot.conversation", "bot.replies", "bot.context", "bot.records", "bot.live_index",
        "bot.settings", "bot.uploads", "bot.cli", "bot.ops.stats", "bot.ops.backup",
        "bot.ops.logs", "bot.ops.pending", "bot.staff.desk", "bot.staff.loop",
        "bot.staff.bench", "bot.staff.save_bench"]


def test_the_core_of_the_bot_never_imports_telegram() -> None:
    code = f"import sys, {', '.join(CORE)}; print('telegram' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "False", f"one of {CORE} imports telegram"
