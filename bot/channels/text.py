"""Clean what a resident typed before the conversation reads it and a channel echoes it back.

Control characters and Unicode direction controls (U+202E and friends) can garble the
reply that quotes the question; they never carry meaning in a question. May import only
the standard library.
"""

import re
import unicodedata

# Direction marks and overrides, isolates, the Arabic letter mark; zero-width no-breaks.
_DIRECTION = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_INPUT_CHARS = 4096  # what Telegram takes in one message; the search reads fewer


def clean_question(text: str) -> str:
    """Drop control and direction characters; tabs and line breaks become spaces."""
    text = _DIRECTION.sub("", text)
    return "".join(" " if c in "\t\n\r\u2028\u2029" else c for c in text
                   if c in "\t\n\r\u2028\u2029" or unicodedata.category(c) != "Cc")
