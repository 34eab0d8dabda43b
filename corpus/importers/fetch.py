"""Fetch an article page over http(s): a timeout, a size cap, one clear error per failure."""

import time
from dataclasses import dataclass

import httpx

from corpus.importers.draft import ImportRefused

FETCH_SECONDS = 20.0
MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "linli/0.1 (article import for a community bot)"


@dataclass(frozen=True)
class Page:
    """A fetched page: where it ended up after redirects, and its bytes."""

    url: str
    data: bytes
    content_type: str


def is_url(source: str) -> bool:
    """Tell whether a source is an http(s) address."""
    return source.lower().startswith(("http://", "https://"))


def fetch_page(url: str, timeout: float | None = None, max_bytes: int | None = None) -> Page:
    """Download `url`; raise ImportRefused naming the failure and what to do."""
    timeout = timeout or FETCH_SECONDS
    max_bytes = max_bytes or MAX_PAGE_BYTES
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout,
                          headers={"User-Agent": USER_AGENT}) as client, \
                client.stream("GET", url) as response:
            _check_status(url, response)
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise _too_big(url, max_bytes)
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise _too_big(url, max_bytes)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the whole download took too long")
            return Page(str(response.url), bytes(data),
                        response.headers.get("content-type", ""))
    except httpx.TimeoutException:
        raise ImportRefused(f"{url}: no complete answer within {timeout:g} seconds; try again "
                            "later, or save the page as .html and import the file") from None
    except httpx.TooManyRedirects:
        raise ImportRefused(f"{url}: more than {MAX_REDIRECTS} redirects; open the address "
                            "in a browser and import the address it ends up at") from None
    except httpx.InvalidURL as err:
        raise ImportRefused(f"{url}: not a valid address ({err}); check it") from None
    except httpx.HTTPError as err:
        raise ImportRefused(f"{url}: cannot fetch the page ({type(err).__name__}: {err}); "
                            "check the address and the network") from None


def _check_status(url: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    reason = response.reason_phrase or "error"
    if response.status_code in (404, 410):
        fix = "check the address; the page may have been moved or removed"
    elif response.status_code in (401, 403):
        fix = "the site refuses the download; save the page as .html in a browser and import it"
    else:
        fix = "try again later, or save the page as .html and import the file"
    raise ImportRefused(f"{url}: the server answered {response.status_code} {reason}; {fix}")


def _too_big(url: str, max_bytes: int) -> ImportRefused:
    return ImportRefused(f"{url}: the page is over {max_bytes // 1024} KB, too big for an "
                         "article page; import the article's own page, not a whole site")
