"""PDF pages with a text layer: lines repaired and articles split as on a newspaper page."""

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from corpus.importers.draft import Draft, ImportRefused, page_drafts

logger = logging.getLogger(__name__)

MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 40
# A scan often carries a page number or a stray mark as text, never a paragraph.
MIN_TEXT_CHARS = 20
_NO_TEXT = "this PDF has no text layer (a scan); it needs OCR first"


def convert_pdf(data: bytes, origin: str) -> list[Draft]:
    """Split the text of a PDF into its articles, in page order."""
    return page_drafts(pdf_text(data, origin), origin)


def pdf_text(data: bytes, origin: str) -> str:
    """Return the text layer of every page; refuse a scan, an encrypted or a huge PDF."""
    if len(data) > MAX_PDF_BYTES:
        raise ImportRefused(f"{origin}: {len(data)} bytes, over the {MAX_PDF_BYTES} byte "
                            "limit; import the article's page on its own")
    try:
        reader = PdfReader(io.BytesIO(data))
        _open(reader, origin)
        count = len(reader.pages)
        if count > MAX_PDF_PAGES:
            raise ImportRefused(f"{origin}: {count} pages, over the {MAX_PDF_PAGES} page "
                                "limit; import the pages that hold the articles")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as err:
        raise ImportRefused(f"{origin}: not a readable PDF ({type(err).__name__}: {err}); "
                            "save it again as PDF and import that") from None
    if len("".join(text.split())) < MIN_TEXT_CHARS:
        raise ImportRefused(f"{origin}: {_NO_TEXT}")
    return text


def _open(reader: PdfReader, origin: str) -> None:
    """Open an encrypted PDF if it has no password to open it (only to print); else refuse."""
    if not reader.is_encrypted:
        return
    try:
        opened = bool(reader.decrypt(""))
    except Exception:  # pypdf raises several kinds, e.g. a missing cipher library
        logger.debug("cannot decrypt %s", origin, exc_info=True)
        opened = False
    if not opened:
        raise ImportRefused(f"{origin}: this PDF is encrypted (password-protected); save a "
                            "copy without a password and import that")
