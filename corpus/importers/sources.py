"""Pick the converter for a source: a URL, or a file by its suffix; bound what it may read."""

import logging
import threading
from collections.abc import Callable, Collection
from pathlib import Path

from corpus.importers.draft import Draft, ImportRefused, page_drafts
from corpus.importers.fetch import fetch_page, is_url

logger = logging.getLogger(__name__)
# How long one source may take to convert (after fetching), in the CLI and the bot.
CONVERT_SECONDS = 60.0

SUFFIXES = (".html", ".htm", ".docx", ".pdf", ".txt")
MAX_SOURCE_BYTES = 20 * 1024 * 1024


def convert_source(source: str, allow_hosts: Collection[str] = ()) -> list[Draft]:
    """Convert a path or an http(s) URL into drafts; raise ImportRefused saying why not.

    `allow_hosts`: hosts fetched even at an internal address (see `fetch.py`).
    """
    if is_url(source):
        page = fetch_page(source, allow_hosts=allow_hosts)
        kind = page.content_type.split(";")[0].strip().lower()
        if kind and kind not in ("text/html", "application/xhtml+xml", "text/plain"):
            raise ImportRefused(f"{source}: not a web page but {kind}; download the file and "
                                "import it from disk")
        return _guarded(source, "web page", lambda: [_webpage(page.data, source, page.url)])
    path = Path(source)
    if not path.is_file():
        raise ImportRefused(f"{source}: no such file; check the path")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise ImportRefused(f"{source}: {size} bytes, over the {MAX_SOURCE_BYTES} byte limit; "
                            "import the article's page on its own")
    return convert_file(source, path.read_bytes())


def convert_file(name: str, data: bytes) -> list[Draft]:
    """Convert the bytes of a file named `name` (its suffix picks the converter)."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRefused(f"{name}: cannot import a '{suffix or 'suffix-less'}' file; "
                            "use .html, .docx, .pdf, a .txt newspaper page or an http(s) URL")
    if suffix in (".html", ".htm"):
        return _guarded(name, "web page", lambda: [_webpage(data, name, None)])
    if suffix == ".docx":
        return _guarded(name, "Word", lambda: [_word(data, name)])
    if suffix == ".pdf":
        return _guarded(name, "PDF", lambda: _pdf(data, name))
    return convert_text_page(data, name)


def convert_text_page(data: bytes, name: str) -> list[Draft]:
    """Split a UTF-8 newspaper page into its articles (what `import-page` does)."""
    try:
        page = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"{name}: not UTF-8 text; save the page as UTF-8") from None
    return page_drafts(page, name)


def _guarded(name: str, kind: str, convert: Callable[[], list[Draft]]) -> list[Draft]:
    """Run a converter within CONVERT_SECONDS; any failure becomes this source's error.

    Its own refusal passes on as it is; a crash or a conversion that takes too long
    is named with the converter and what to do.
    """
    outcome: list[list[Draft] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(convert())
        except BaseException as err:  # handed to the caller's thread below
            outcome.append(err)

    # A daemon thread: a pathological file cannot keep the command from finishing.
    worker = threading.Thread(target=run, name=f"convert {kind}", daemon=True)
    worker.start()
    worker.join(CONVERT_SECONDS)
    if not outcome:
        raise ImportRefused(f"{name}: the {kind} converter took longer than "
                            f"{CONVERT_SECONDS:g} s; check that the file opens, or write the "
                            "article by hand")
    result = outcome[0]
    if isinstance(result, ImportRefused):
        raise result
    if isinstance(result, Exception):  # a converter library's bug must not end the others
        logger.warning("the %s converter failed on %s", kind, name, exc_info=result)
        raise ImportRefused(f"{name}: the {kind} converter failed ({type(result).__name__}: "
                            f"{result}); check that the file opens, or write the article by "
                            "hand") from None
    if isinstance(result, BaseException):
        raise result
    return result


# Converters load their libraries (trafilatura, python-docx, pypdf) on first use only,
# so that `linli` and the bot start without paying for them.
def _webpage(data: bytes, name: str, url: str | None) -> Draft:
    from corpus.importers.webpage import convert_html

    return convert_html(data, name, url)


def _word(data: bytes, name: str) -> Draft:
    from corpus.importers.word import convert_docx

    return convert_docx(data, name)


def _pdf(data: bytes, name: str) -> list[Draft]:
    from corpus.importers.pdf import convert_pdf

    return convert_pdf(data, name)
