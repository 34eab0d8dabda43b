"""What WeChat's endpoint remembers between messages, in memory and bounded.

Per follower (their user number, never the OpenID): the example questions last offered
(a reply of 1, 2 or 3 picks one) and the article last answered from (全文 pages through
it), for CONTEXT_SECONDS like the follow-up context. Per message: the reply being made,
so that WeChat's retries of a message (after 5 s without a reply) get it, not a second
search. Per signed query: its (timestamp, nonce), so that it cannot be used twice.
May import bot.context (the follow-up contexts) and the standard library.
"""

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.context import CONTEXT_SECONDS, MAX_CONTEXTS

MAX_PENDING = 1000  # replies kept for retries; WeChat retries within 15 s
MAX_NONCES = 100_000  # signed queries remembered (a busy account's 20 minutes)


@dataclass
class Follower:
    """One follower's state between messages."""

    examples: list[str] = field(default_factory=list)
    article_key: str | None = None
    next_part: int = 0
    used_at: float = 0.0


class Followers:
    """Each follower's state, dropped CONTEXT_SECONDS after it was last used."""

    def __init__(self, seconds: float = CONTEXT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._state: OrderedDict[int, Follower] = OrderedDict()

    def get(self, user: int) -> Follower:
        """The follower's fresh state (a new one if it expired or there was none)."""
        state = self._state.pop(user, None)
        now = self.clock()
        if state is None or now - state.used_at > self.seconds:
            state = Follower()
        state.used_at = now
        self._state[user] = state
        while len(self._state) > MAX_CONTEXTS:
            self._state.popitem(last=False)
        return state


class Pending:
    """The reply of each recent message, by its key, while it is made and after."""

    def __init__(self) -> None:
        self._replies: OrderedDict[str, asyncio.Future[str]] = OrderedDict()

    def get(self, key: str) -> "asyncio.Future[str] | None":
        """The reply of a message seen before, or None."""
        return self._replies.get(key)

    def add(self, key: str, reply: "asyncio.Future[str]") -> None:
        """Remember the reply of a message."""
        self._replies[key] = reply
        while len(self._replies) > MAX_PENDING:
            self._replies.popitem(last=False)


class Nonces:
    """The signed (timestamp, nonce) pairs seen within the signature window, with their body.

    A signed query is good for `seconds`; without this memory anyone who saw one (in a log,
    say) could post any body with it. WeChat's retry of a message posts the same body, so
    a pair seen again with the same body is a retry, and with another body a forgery.
    """

    def __init__(self, seconds: float, limit: int = MAX_NONCES,
                 clock: Callable[[], float] = time.time) -> None:
        self.seconds, self.limit, self.clock = seconds, limit, clock
        self._seen: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()

    def allows(self, timestamp: str, nonce: str, body: bytes) -> bool:
        """Remember the pair; tell whether it is new or a retry of the same body."""
        now = self.clock()
        while self._seen:
            oldest = next(iter(self._seen.values()))[0]
            if now - oldest <= 2 * self.seconds and len(self._seen) < self.limit:
                break
            self._seen.popitem(last=False)
        digest = hashlib.sha256(body).digest()
        seen = self._seen.get((timestamp, nonce))
        if seen is not None:
            return hmac.compare_digest(seen[1], digest)
        self._seen[(timestamp, nonce)] = (now, digest)
        return True
