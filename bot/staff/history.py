"""/pending's history: what staff answered (pairings), and removing one.

Removing a staff answer deletes its file (the channel then reloads, as after 保存);
removing a link or a designated reply forgets the pairing only. Editing a staff
answer is editing its file and /reload. Imports bot.records, bot.replies, bot.staff
and corpus.
"""

import hashlib
import logging
from pathlib import Path

from bot.records import Records
from bot.replies import Button, Reply
from bot.staff.pairings import Pairing, all_pairings, find_passage, remove_pairing
from corpus.models import is_staff_answer
from retrieval.search import Searcher

logger = logging.getLogger(__name__)

PAGE_SIZE = 5
KINDS = {"staff": "📝 工作人员答复", "link": "🔗 选定段落", "designated": "📌 指定答复"}


def pairing_key(words: str) -> str:
    """A short key of a group's words for a button's callback data."""
    return hashlib.sha1(words.encode("utf-8")).hexdigest()[:12]


def history_page(records: Records, searcher: Searcher, number: int) -> Reply:
    """One page of the answered groups, newest first, with 删除 buttons."""
    pairings = all_pairings(records)
    if not pairings:
        return Reply.text("还没有答复过的问题。", [[Button("📋 待答复", "sp:0")]])
    pages = (len(pairings) + PAGE_SIZE - 1) // PAGE_SIZE
    number = min(max(number, 0), pages - 1)
    lines = [f"📚 已答复的问题：共 {len(pairings)} 个（第 {number + 1}/{pages} 页，新的在前）"]
    rows = []
    for i, pairing in enumerate(pairings[number * PAGE_SIZE : (number + 1) * PAGE_SIZE],
                                number * PAGE_SIZE + 1):
        hit = find_passage(searcher, pairing)
        title = f"《{hit.title}》" if hit else "⚠️ 原文已改动"
        lines.append(f"{i}. {pairing.question} → {KINDS[pairing.kind]} {title}")
        rows.append([Button(f"🗑 删除 {i}", f"sx:{pairing_key(pairing.words)}")])
    nav = [Button("📋 待答复", "sp:0")]
    if number > 0:
        nav.insert(0, Button("◀ 上一页", f"sh:{number - 1}"))
    if number + 1 < pages:
        nav.append(Button("下一页 ▶", f"sh:{number + 1}"))
    lines.append("修改工作人员答复：编辑“答复/”里的文件，然后 /reload。")
    return Reply.text("\n".join(lines), [*rows, nav])


def remove(records: Records, corpus_dir: Path, key: str) -> tuple[Reply, bool]:
    """Remove the answer of the group with this key; return the reply and whether to reload."""
    pairing: Pairing | None = next((p for p in all_pairings(records)
                                    if pairing_key(p.words) == key), None)
    if pairing is None:
        return Reply.text("这条答复已经删除了。"), False
    remove_pairing(records, pairing.words)
    reload = False
    if pairing.kind == "staff" and is_staff_answer(pairing.article_id):
        path = corpus_dir / f"{pairing.article_id}.md"
        if path.is_file():
            path.unlink()
            reload = True
    logger.info("staff removed a %s pairing", pairing.kind, extra={"pairing": pairing.kind})
    done = "并删除了答复文件，正在重新加载……" if reload else "。"
    return Reply.text(f"🗑 已删除“{pairing.question}”的答复{done}"), reload
