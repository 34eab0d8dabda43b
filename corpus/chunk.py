"""Cut articles into passages of whole sentences, never across a section."""

import re
from collections.abc import Iterable

from corpus.models import Article, Chunk

MIN_CHARS = 80
TARGET_CHARS = 160
MAX_CHARS = 250

# A sentence ends at 。！？；… or their ASCII forms, with any closing quote or bracket after it.
_SENTENCE_END = re.compile(r"(?:[。！？；!?;]|…+|\.(?=\s|$))+[”’」』）)》]*")
_CLAUSE_END = re.compile(r"[,，、：:]")
# A quote's attribution (“……。”社区党委书记朱光表示。) is a short sentence right after a
# closing quote that opens no quote of its own: it belongs to the quote, never alone.
_CLOSING_QUOTES = "”’」』"
_OPENING_QUOTES = "“‘「『"
MAX_ATTRIBUTION_CHARS = 30


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return the (start, end) of each sentence of `text`, shifted by `offset`."""
    spans: list[tuple[int, int]] = []
    start = 0
    for line_start, line in _lines(text):
        start = line_start
        for match in _SENTENCE_END.finditer(line):
            spans.append((start, line_start + match.end()))
            start = line_start + match.end()
        if start < line_start + len(line):
            spans.append((start, line_start + len(line)))
    return [(offset + a, offset + b) for a, b in _trim(text, spans)]


def quoted_sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans with each quote's attribution kept in the quote's sentence.

    “……真周到。”79岁的徐大妈拉着志愿者的手高兴地说。 is one sentence to a reader.
    """
    return _attach_attributions(text, sentence_spans(text))


def split_sentences(text: str) -> list[str]:
    """Split `text` into sentences, keeping closing quotes with their sentence."""
    return [text[a:b] for a, b in sentence_spans(text)]


def _lines(text: str) -> Iterable[tuple[int, str]]:
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _trim(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


def _cut_long(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Cut a sentence longer than MAX_CHARS at clause marks, or hard at MAX_CHARS."""
    a, b = span
    pieces: list[tuple[int, int]] = []
    while b - a > MAX_CHARS:
        window = text[a : a + MAX_CHARS]
        cuts = [m.end() for m in _CLAUSE_END.finditer(window) if m.end() >= MIN_CHARS]
        cut = cuts[-1] if cuts else MAX_CHARS
        pieces.append((a, a + cut))
        a += cut
    pieces.append((a, b))
    return pieces


def _attach_attributions(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join each quote's attribution sentence to the quote, so no passage starts with it."""
    joined: list[tuple[int, int]] = []
    for a, b in spans:
        if (joined and text[joined[-1][1] - 1] in _CLOSING_QUOTES
                and b - a <= MAX_ATTRIBUTION_CHARS and text[a] not in _OPENING_QUOTES
                and "\n" not in text[joined[-1][1] : a]):
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def _group(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Group consecutive sentence spans into passages of about TARGET_CHARS."""
    groups: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for a, b in spans:
        if current and b - current[0] > MAX_CHARS:
            groups.append(current)
            current = None
        current = (current[0], b) if current else (a, b)
        if current[1] - current[0] >= TARGET_CHARS:
            groups.append(current)
            current = None
    if current:
        short = current[1] - current[0] < MIN_CHARS
        if groups and short and current[1] - groups[-1][0] <= MAX_CHARS:
            groups[-1] = (groups[-1][0], current[1])
        else:
            groups.append(current)
    return groups


def chunk_article(article: Article) -> list[Chunk]:
    """Cut one article into chunks; each knows its article, section and body offsets."""
    body = article.body
    chunks: list[Chunk] = []
    pos = 0
    for section in article.sections:
        spans: list[tuple[int, int]] = []
        for paragraph in section.paragraphs:
            for span in sentence_spans(paragraph, offset=pos):
                spans.extend(_cut_long(body, span))
            pos += len(paragraph) + 1
        for start, end in _group(_attach_attributions(body, spans)):
            chunks.append(Chunk(
                id=f"{article.id}#{len(chunks)}", article_id=article.id, title=article.title,
                section=section.heading, ordinal=len(chunks), text=body[start:end],
                start=start, end=end,
            ))
    return chunks


def chunk_corpus(articles: Iterable[Article]) -> list[Chunk]:
    """Chunk every article, in order."""
    return [chunk for article in articles for chunk in chunk_article(article)]
