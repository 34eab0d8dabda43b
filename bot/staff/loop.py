"""The residents' side of the staff loop: paired answers first, 有答复时通知我, notifications.

`Conversation` calls this for every question; the channels send the notifications
that `notifications` returns. Imports bot.records, bot.replies and the other bot.staff
modules (never Telegram).
"""

import logging
from dataclasses import dataclass

from bot.records import Records
from bot.replies import Button, Reply, answer
from bot.staff import notify
from bot.staff.pairings import find_passage, pairing_of
from bot.staff.queue import remember_words, words_key
from retrieval.search import Hit, Searcher

logger = logging.getLogger(__name__)

NOTIFY_BUTTON = "🔔 有答复时通知我"
SUBSCRIBED = ("🔔 好的，工作人员答复后我会把答复发给您。为此只保存您的聊天编号，"
              "通知后或 {days} 天后即删除。")
NOT_ASKER = "只有提问的人可以登记答复通知。"
NOTIFIED = "🔔 您之前问过“{question}”，现在有了答复：\n\n"
NOTIFIED_FOOTER = "\n（这条通知只发一次，您的聊天编号已删除。）"


@dataclass(frozen=True)
class Notification:
    """A message for a resident who asked to be told: where, and what."""

    chat_id: int
    reply: Reply


class StaffLoop:
    """What questions need from the staff loop: their group, its pairing, subscriptions."""

    def __init__(self, records: Records, notify_days: int = notify.DEFAULT_NOTIFY_DAYS) -> None:
        self.records, self.notify_days = records, notify_days

    def words(self, searcher: Searcher, question: str) -> str:
        """The question's group key (its searched words)."""
        return words_key(searcher, question)

    def paired(self, searcher: Searcher, words: str) -> Hit | None:
        """The passage staff chose for this group, if it is still in the index."""
        pairing = pairing_of(self.records, words)
        return None if pairing is None else find_passage(searcher, pairing)

    def remember(self, question_id: int, words: str) -> None:
        """Store the recorded question's group key."""
        remember_words(self.records, question_id, words)

    def button(self, question_id: int) -> list[Button]:
        """The row under an honest no or a closest match."""
        return [Button(NOTIFY_BUTTON, f"sn:{question_id}")]

    def subscribe(self, user_id: int, question_id: int) -> Reply:
        """Keep the asker's chat id (a private chat's id is the user's) until answered."""
        asker = self.records.user_hash(user_id)
        row = self.records.run(lambda db: db.execute(
            "SELECT q.question, w.words FROM questions q JOIN asked_words w"
            " ON w.question_id = q.id WHERE q.id = ? AND q.user_hash = ?",
            (question_id, asker)).fetchone())
        if row is None:
            return Reply(notice=NOT_ASKER)
        notify.purge_expired(self.records, self.notify_days)
        notify.subscribe(self.records, str(row[1]), user_id, str(row[0]))
        logger.info("notification subscribed", extra={"user": asker})
        line = SUBSCRIBED.format(days=self.notify_days)
        return Reply(notice="已登记", pieces=[(line, False)])

    def notifications(self, hit: Hit, words: str) -> list[Notification]:
        """Claim the group's subscriptions and render the answer for each (sent once)."""
        notify.purge_expired(self.records, self.notify_days)
        waiting = notify.claim(self.records, words)
        result = []
        for subscription in waiting:
            reply = answer(hit, 1, 1, [])
            reply.pieces.insert(0, (NOTIFIED.format(question=subscription.question), False))
            reply.pieces.append((NOTIFIED_FOOTER, False))
            result.append(Notification(subscription.chat_id, reply))
        return result
