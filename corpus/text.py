"""Chinese text normalisation shared by the corpus, the index and the questions."""

import re
import unicodedata

# Chinese punctuation that NFKC would fold to ASCII; it is kept as written.
_KEPT_PUNCTUATION = "，。！？；：、（）《》〈〉【】〔〕…—～·｜＂＇"
_KEPT = re.compile(f"[{re.escape(_KEPT_PUNCTUATION)}]")
_OPENING_QUOTES = str.maketrans({"「": "“", "『": "“", "〝": "“", "„": "“", "‟": "“",
                                 "」": "”", "』": "”", "〞": "”", "＂": '"'})
_ASCII_QUOTE = re.compile('"')
_SPACES = re.compile(r"[ \t\u00a0\u3000\u200b]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _nfkc_outside_kept(text: str) -> str:
    """Apply NFKC to everything but the Chinese punctuation in `_KEPT_PUNCTUATION`."""
    out: list[str] = []
    pos = 0
    for match in _KEPT.finditer(text):
        out.append(unicodedata.normalize("NFKC", text[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    out.append(unicodedata.normalize("NFKC", text[pos:]))
    return "".join(out)


def _pair_ascii_quotes(line: str) -> str:
    """Turn ASCII double quotes into alternating “ and ” within one line."""
    count = 0

    def pick(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "“" if count % 2 else "”"

    return _ASCII_QUOTE.sub(pick, line)


def normalize_text(text: str) -> str:
    """Normalise Chinese text: NFKC, one style of quotes, collapsed whitespace.

    Full-width letters and digits become half-width; Chinese punctuation
    (，。！？ and the like) is kept; line breaks survive, but runs of blank
    lines shrink to one and spaces inside a line collapse to one.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = text.translate(_OPENING_QUOTES)
    text = _nfkc_outside_kept(text)
    lines = [_pair_ascii_quotes(_SPACES.sub(" ", line).strip()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def join_lines(left: str, right: str) -> str:
    """Join two pieces of one paragraph, with a space only between Latin words."""
    if not left or not right:
        return left + right
    if left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return left + right
