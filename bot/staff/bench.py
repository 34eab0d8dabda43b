"""`linli bench-staff --gov DIR`: the staff loop measured on the government-service sets.

For each set (messages/, policy/ of ../shared/bench-data/gov, read by path, with
`linli eval --gov`'s reader and writer, retrieval/evaluation/gov.py): its articles
become a temporary corpus; every question is asked once through the bot's
own `Conversation` (records in memory) and the queue is read from `Desk.queue`. Then,
as 1%, 5% and 10% of the queue's groups (most asked first) get a staff answer through
the desk's own flow (回答 -> text -> 保存 -> reload -> pairing), the questions outside
the answered groups are asked again. A simulated answer is the gold article's first
paragraph (messages) or the gold answer span (policy); a messages question whose
reply is not in the set has no text to answer with and is skipped (counted).

"Right" means the top passage comes from the question's gold article, or from a staff
answer written for a question with the same gold article. Imports bot and retrieval.
"""

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.conversation import Conversation
from bot.live_index import LiveIndex
from bot.records import Records
from bot.staff.desk import Desk
from bot.staff.loop import StaffLoop
from bot.staff.queue import words_of
from retrieval.evaluation.gov import (
    GovSet,
    file_stem,
    paragraphs,
    read_set,
    set_folders,
    write_corpus,
)

LEVELS = (1, 5, 10)  # percent of the queue's groups answered
ADMIN = 1  # the simulated admin's user id; residents are numbered from RESIDENTS
RESIDENTS = 1_000_000


@dataclass(frozen=True)
class StaffQuestion:
    """One question of a set, with what a simulated staff member would answer."""

    q: str
    gold: str  # the gold article's id in the corpus (present in the set or not)
    answer: str | None  # the simulated staff answer, None if the set gives no text


def staff_questions(gov: GovSet) -> list[StaffQuestion]:
    """The set's questions, each with its simulated staff answer."""
    first = {a.id: paragraphs(a.text)[0] for a in gov.articles}
    return [StaffQuestion(q.q, file_stem(q.article_id),
                          (q.answers[0] if q.answers else None)
                          or (first.get(q.article_id) if q.present else None))
            for q in gov.questions]


class Loop:
    """One set's simulation: the bot, the desk, and where each staff answer came from."""

    def __init__(self, corpus: Path, data: Path, questions: list[StaffQuestion]) -> None:
        self.live = LiveIndex(corpus, data)
        self.live.load()
        self.records = Records(Path(":memory:"))
        self.conversation = Conversation(self.live, self.records, staff=StaffLoop(self.records))
        self.desk = Desk(self.conversation, corpus, "社区服务中心", days=3650)
        self.questions = questions
        self.staff_gold: dict[str, str] = {}  # staff answer's article id -> its gold article
        self.asked = 0
        self.qids: dict[int, int] = {}  # question index -> its first recorded id

    def ask_all(self, which: list[int]) -> dict[int, tuple[bool, bool]]:
        """Ask the questions; return (answered, right source first) for each."""
        result = {}
        for i in which:
            self.asked += 1
            asked = self.conversation.ask(RESIDENTS + self.asked, "private", self.questions[i].q)
            qid = asked.question_id
            if qid is not None:
                self.qids.setdefault(i, qid)
            article = self._top_article(qid) if qid else None
            gold = self.questions[i].gold
            right = article is not None and self.staff_gold.get(article, article) == gold
            result[i] = (asked.answered, asked.answered and right)
        return result

    def _top_article(self, qid: int) -> str | None:
        row = self.records.run(lambda db: db.execute(
            "SELECT article_id FROM questions WHERE id=?", (qid,)).fetchone())
        return None if row is None or row[0] is None else str(row[0])

    def answer_groups(self, groups: list[tuple[str, int, int]]) -> set[str]:
        """Answer (words, question id, question index) groups through the desk.

        Return the words of the groups that got a staff answer (written, then paired).
        """
        written = set()
        for n, (words, qid, index) in enumerate(groups):
            text = self.questions[index].answer
            if text is None:
                continue
            admin = ADMIN + n
            self.desk.begin(admin, qid)
            self.desk.take(admin, text)
            if self.desk.save(admin).reload:
                written.add(words)
        self.live.reload_now()
        self.live.wait_saved()
        for n, (_, _, index) in enumerate(groups):
            if ADMIN + n in self.desk.written:
                _, path = self.desk.written[ADMIN + n]
                self.staff_gold[path.relative_to(self.live.corpus_dir).with_suffix("")
                                .as_posix()] = self.questions[index].gold
                self.desk.saved(ADMIN + n)
        return written


def simulate(folder: Path) -> dict[str, Any]:
    """Run the loop on one set; return the figures at each level."""
    gov = read_set(folder)
    questions = staff_questions(gov)
    with tempfile.TemporaryDirectory(prefix="linli-staff-loop-") as tmp:
        corpus = write_corpus(gov, Path(tmp))  # a temporary folder: never the project
        loop = Loop(corpus, Path(tmp) / "data", questions)
        everyone = list(range(len(questions)))
        first = loop.ask_all(everyone)
        index_of = {qid: i for i, qid in loop.qids.items()}
        queue = [(g.words, g.question_id, index_of[g.question_id]) for g in loop.desk.queue()]
        rows: list[dict[str, Any]] = [_row(0, 0, 0, first, everyone)]
        done, staffed_words = 0, set()
        for level in LEVELS:
            upto = math.ceil(len(queue) * level / 100)
            staffed_words |= loop.answer_groups(queue[done:upto])
            done = upto
            answered_words = {w for w, _, _ in queue[:upto]}
            group_of = {i: words_of(loop.records, loop.qids[i]) for i in everyone}
            remaining = [i for i in everyone if group_of[i] not in answered_words]
            staffed = [i for i in everyone if group_of[i] in staffed_words]
            golds = set(loop.staff_gold.values())
            related = [i for i in remaining if questions[i].gold in golds]
            after = loop.ask_all(everyone)
            row = _row(level, upto, len(loop.staff_gold), after, remaining)
            row["before_on_remaining"] = _rates(first, remaining)
            row["staffed_groups_questions"] = _rates(after, staffed)
            row["related_before"] = _rates(first, related)
            row["related_after"] = _rates(after, related)
            rows.append(row)
    return {"set": gov.name, "questions": len(questions), "articles": len(gov.articles),
            "queue_groups": len(queue), "queue_questions": sum(
                1 for i in everyone if not first[i][0]), "levels": rows}


def _rates(outcomes: dict[int, tuple[bool, bool]], which: list[int]) -> dict[str, float]:
    n = len(which) or 1
    return {"n": len(which), "answered": sum(outcomes[i][0] for i in which) / n,
            "right": sum(outcomes[i][1] for i in which) / n}


def _row(level: int, groups: int, written: int, outcomes: dict[int, tuple[bool, bool]],
         remaining: list[int]) -> dict[str, Any]:
    return {"level": level, "groups_answered": groups, "staff_answers": written,
            "remaining": _rates(outcomes, remaining)}


def format_loop(result: dict[str, Any]) -> str:
    """The curve as a table."""
    lines = [f"{result['set']}: {result['questions']} questions, {result['articles']} articles;"
             f" queue {result['queue_groups']} groups ({result['queue_questions']} questions)",
             "| queue answered | staff answers | remaining questions | answered before -> after"
             " | right source first before -> after | of them, same gold article as a staff"
             " answer: right before -> after | questions of the staff-answered groups:"
             " answered (right) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in result["levels"][1:]:
        before, after = row["before_on_remaining"], row["remaining"]
        own, rb, ra = (row["staffed_groups_questions"], row["related_before"],
                       row["related_after"])
        lines.append(f"| {row['level']}% ({row['groups_answered']} groups) | "
                     f"{row['staff_answers']} | {after['n']} | "
                     f"{before['answered']:.1%} -> {after['answered']:.1%} | "
                     f"{before['right']:.1%} -> {after['right']:.1%} | "
                     f"{ra['n']}: {rb['right']:.1%} -> {ra['right']:.1%} | "
                     f"{own['n']}: {own['answered']:.1%} ({own['right']:.1%}) |")
    return "\n".join(lines)


def run_staff_loop(gov: Path, as_json: bool) -> int:
    """Measure each set under `gov` (or `gov` itself if it is one set)."""
    folders = set_folders(gov)
    results = [simulate(folder) for folder in folders]
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        print("\n\n".join(format_loop(r) for r in results))
    return 0
