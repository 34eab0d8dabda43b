"""`linli bench-staff --data DIR --files N`: from 保存 to the next resident's answer.

The archive is `linli bench --files`'s (retrieval/archive_bench.py: N Markdown files
from the CMRC 2018 contexts, in a temporary folder). The bot's own objects serve it
in-process, as `linli run` does: a resident's question is queued, the desk takes a
staff answer, and the clock runs from 保存 (the file written) through the reload (as
/reload: the new index serves at once, it is saved on a thread) and the pairing to the
next resident's question answered: the same question again and a paraphrase. Each
round waits for the previous reload's save first (staff do not save twice a second).
Imports bot and retrieval.
"""

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.conversation import Conversation
from bot.live_index import LiveIndex
from bot.records import Records
from bot.staff.desk import Desk
from bot.staff.loop import StaffLoop
from corpus.models import is_staff_answer
from retrieval.evaluation.archive_bench import write_archive
from retrieval.evaluation.cmrc import read_cmrc

ADMIN = 1
# (question as first asked, the staff answer, the next resident's paraphrase)
ROUNDS = [
    ("邻里社区食堂几点开门？", "邻里社区食堂每天11:00至13:00供应午餐，周末休息。",
     "食堂什么时候开门"),
    ("社区卫生服务站的电话是多少？", "社区卫生服务站电话：0371-66661234，工作日8:30至17:30接听。",
     "卫生服务站电话"),
    ("垃圾分类几点投放？", "垃圾分类投放时间为每天7:00至9:00和18:00至20:00。",
     "什么时间可以投放垃圾"),
    ("老年大学怎么报名？", "老年大学每年9月报名，请携带身份证到社区服务中心一楼登记。",
     "老年大学如何报名"),
    ("居住证在哪里办理？", "办理居住证请携带身份证和租房合同到社区服务中心二楼窗口。",
     "办理居住证去哪里"),
]


def timed_round(live: LiveIndex, conversation: Conversation, desk: Desk,
                number: int) -> dict[str, Any]:
    """Queue a question, answer it through the desk, time 保存 to the next answers."""
    question, text, paraphrase = ROUNDS[number % len(ROUNDS)]
    user = 10_000 + 3 * number
    asked = conversation.ask(user, "private", question)
    if asked.question_id is None:
        raise RuntimeError(f"'{question}' was not recorded")
    desk.begin(ADMIN, asked.question_id)
    desk.take(ADMIN, text)
    live.wait_saved()
    started = time.perf_counter()
    if not desk.save(ADMIN).reload:
        raise RuntimeError(f"the staff answer to '{question}' was not written")
    written = time.perf_counter()
    outcome = live.reload_now()
    reloaded = time.perf_counter()
    desk.saved(ADMIN)
    paired = time.perf_counter()
    again = conversation.ask(user + 1, "private", question)
    answered_again = time.perf_counter()
    other = conversation.ask(user + 2, "private", paraphrase)
    answered_other = time.perf_counter()
    report = outcome.report
    return {"question": question, "asked_first_answered": asked.answered,
            "write_s": written - started, "reload_s": reloaded - written,
            "pair_s": paired - reloaded, "save_to_same_question_s": answered_again - started,
            "save_to_paraphrase_s": answered_other - started,
            "same_question_from_staff": again.answered and _from_staff(conversation, again),
            "paraphrase_from_staff": other.answered and _from_staff(conversation, other),
            "spliced": bool(report and report.spliced), "error": outcome.error}


def _from_staff(conversation: Conversation, asked: Any) -> bool:
    row = conversation.records.run(lambda db: db.execute(
        "SELECT article_id FROM questions WHERE id=?", (asked.question_id,)).fetchone())
    return bool(row and row[0] and is_staff_answer(str(row[0])))


def run_save_bench(data: Path, n_files: int, runs: int, as_json: bool) -> int:
    """Build an archive of `n_files` files, then time `runs` staff answers; print medians."""
    articles, _ = read_cmrc(data)
    with tempfile.TemporaryDirectory(prefix="linli-staff-save-") as tmp:
        corpus, data_dir = Path(tmp) / "corpus", Path(tmp) / "data"
        corpus.mkdir()
        write_archive(articles, n_files, corpus)
        started = time.perf_counter()
        live = LiveIndex(corpus, data_dir)
        live.load()
        build = time.perf_counter() - started
        records = Records(Path(":memory:"))
        conversation = Conversation(live, records, staff=StaffLoop(records))
        desk = Desk(conversation, corpus, "社区服务中心")
        rows = [timed_round(live, conversation, desk, i) for i in range(runs)]
        live.wait_saved()
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}")
    result = {"machine": machine, "files": n_files, "build_s": build, "rounds": rows}
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(format_save_bench(result))
    return 0


def format_save_bench(result: dict[str, Any]) -> str:
    """The medians, and each round's line."""
    rows = result["rounds"]
    median = lambda key: statistics.median(r[key] for r in rows)  # noqa: E731
    lines = [f"machine: {result['machine']}",
             f"archive of {result['files']} files (index built in {result['build_s']:.1f} s);"
             f" {len(rows)} staff answers, medians:",
             f"  保存 -> same question answered   {median('save_to_same_question_s'):6.2f} s",
             f"  保存 -> paraphrase answered      {median('save_to_paraphrase_s'):6.2f} s",
             f"    of which: write {median('write_s'):.3f} s, reload {median('reload_s'):.2f} s,"
             f" pairing {median('pair_s'):.3f} s"]
    for row in rows:
        lines.append(f"  {row['question']}: {row['save_to_same_question_s']:.2f} / "
                     f"{row['save_to_paraphrase_s']:.2f} s; same question from the staff answer"
                     f" {row['same_question_from_staff']}, paraphrase"
                     f" {row['paraphrase_from_staff']}; spliced {row['spliced']}"
                     + (f"; error {row['error']}" if row["error"] else ""))
    return "\n".join(lines)
