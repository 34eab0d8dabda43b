"""Word documents (.docx): title, paragraphs, headings as sections."""

import io
import zipfile

import docx
from docx.text.paragraph import Paragraph

from corpus.importers.draft import Draft, ImportRefused, build_article, one_line
from corpus.newspaper import MAX_HEADING_CHARS, is_byline
from corpus.text import normalize_text

MAX_DOCX_BYTES = 20 * 1024 * 1024
# A .docx is a zip: refuse one that unpacks to far more than any article (a zip bomb).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
_SENTENCE_MARK = ("。", "，", "！", "？", "；", "：")


def convert_docx(data: bytes, origin: str) -> Draft:
    """Read one Word document as one article."""
    if len(data) > MAX_DOCX_BYTES:
        raise ImportRefused(f"{origin}: {len(data)} bytes, over the {MAX_DOCX_BYTES} byte "
                            "limit; save the article without its pictures")
    _check_package(data, origin)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise ImportRefused(f"{origin}: not a readable Word .docx file ({err}); open it in "
                            "Word and save it as .docx") from None
    blocks = [block for p in document.paragraphs if (block := _block(p))]
    title, blocks = _title(blocks, normalize_text(document.core_properties.title or ""))
    if title is None:
        raise ImportRefused(f"{origin}: no title found; give the document a heading "
                            "(style Title or Heading 1) as its first line")
    article = build_article(title, blocks)
    if not article.paragraphs:
        raise ImportRefused(f"{origin}: no article text found below the title '{title}'")
    return Draft(origin=origin, article=article)


def _check_package(data: bytes, origin: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except zipfile.BadZipFile:
        raise ImportRefused(f"{origin}: not a Word .docx file (an old .doc, or password-"
                            "protected?); open it in Word and save it as .docx without a "
                            "password") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(f"{origin}: unpacks to {unpacked} bytes, over the "
                            f"{MAX_UNPACKED_BYTES} byte limit; save the article on its own")


def _block(paragraph: Paragraph) -> tuple[str, str] | None:
    text = one_line(normalize_text(paragraph.text))
    if not text:
        return None
    style = paragraph.style.name if paragraph.style is not None else ""
    heading = style is not None and style.startswith(("Title", "Heading", "标题"))
    return ("heading" if heading else "text", text)


def _title(blocks: list[tuple[str, str]], document_title: str,
           ) -> tuple[str | None, list[tuple[str, str]]]:
    """The first heading, else the document's title, else a short first line."""
    if blocks and blocks[0][0] == "heading":
        return blocks[0][1], blocks[1:]
    if document_title:
        return document_title, blocks
    if blocks and _looks_like_title(blocks[0][1]):
        return blocks[0][1], blocks[1:]
    return None, blocks


def _looks_like_title(text: str) -> bool:
    return (len(text) <= MAX_HEADING_CHARS and not is_byline(text)
            and not any(mark in text for mark in _SENTENCE_MARK))
