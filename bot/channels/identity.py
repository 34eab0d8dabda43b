"""Turn a channel's own user id (a web conversation id, a WeChat OpenID) into a user number.

The conversation, its rate limit, its follow-up contexts and the records all key users by
a number; Telegram's are its user ids. Other channels' ids are hashed here with a keyed
hash into a range Telegram's ids never reach, so the raw id is never stored or logged.
May import only the standard library.
"""

import hashlib
import hmac

# Telegram's user ids fit in 52 bits; channel numbers start at 2**62.
CHANNEL_BASE = 1 << 62


def channel_user(key: bytes, channel: str, raw_id: str) -> int:
    """Return the user number of `raw_id` in `channel` (stable for one key)."""
    digest = hmac.new(key, f"{channel}\x00{raw_id}".encode(), hashlib.sha256).digest()
    return CHANNEL_BASE + int.from_bytes(digest[:8], "big") % CHANNEL_BASE
