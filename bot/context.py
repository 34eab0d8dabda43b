"""The previous question of each user in each chat, for reading follow-ups in its context.

A context belongs to one user in one chat: what a resident asked in a group never
colours what they ask in private, and one neighbour's question never another's.
It expires CONTEXT_SECONDS after the last question that used it. (The rule that tells a
follow-up from a new question is `retrieval.followup`; this module only stores.)
Telegram-free: standard library only.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

CONTEXT_SECONDS = 300.0  # five minutes
MAX_CONTEXTS = 10_000  # the oldest are dropped first: memory stays bounded


@dataclass(frozen=True)
class Context:
    """The question a follow-up continues, and when it was last used."""

    question: str
    used_at: float


class Contexts:
    """Per user and chat: the last complete question, while it is fresh."""

    def __init__(self, seconds: float = CONTEXT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._contexts: OrderedDict[tuple[int, int], Context] = OrderedDict()

    def get(self, user_id: int, chat_id: int) -> str | None:
        """Return the user's question in this chat, or None if there is none or it expired."""
        context = self._contexts.get((user_id, chat_id))
        if context is None:
            return None
        if self.clock() - context.used_at > self.seconds:
            del self._contexts[(user_id, chat_id)]
            return None
        return context.question

    def set(self, user_id: int, chat_id: int, question: str) -> None:
        """Remember (or refresh) the question a follow-up in this chat would continue."""
        key = (user_id, chat_id)
        self._contexts.pop(key, None)
        self._contexts[key] = Context(question, self.clock())
        while len(self._contexts) > MAX_CONTEXTS:
            self._contexts.popitem(last=False)

    def forget(self, user_id: int, chat_id: int) -> None:
        """Drop the context: the last question found nothing to follow up on."""
        self._contexts.pop((user_id, chat_id), None)
