"""Fetch an article page over http(s): a timeout, a size cap, one clear error per failure.

Only public addresses are fetched: each address a host name resolves to is checked, at
the first request and at every redirect, and the connection goes to the address that was
checked (the name is not resolved again, so a DNS answer that changes in between cannot
slip an internal address through). Loopback, private, link-local, multicast, unspecified
and reserved addresses are refused, IPv4 written as a decimal number or mapped into IPv6
included; a host an admin names in the allowed hosts (`LINLI_IMPORT_ALLOW_HOSTS`) is
fetched wherever it points.
"""

import ipaddress
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass

import httpx

from corpus.importers.draft import ImportRefused

FETCH_SECONDS = 20.0
MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "linli/0.1 (article import for a community bot)"
ALLOW_HOSTS_SETTING = "LINLI_IMPORT_ALLOW_HOSTS"


@dataclass(frozen=True)
class Page:
    """A fetched page: where it ended up after redirects, and its bytes."""

    url: str
    data: bytes
    content_type: str


def is_url(source: str) -> bool:
    """Tell whether a source is an http(s) address."""
    return source.lower().startswith(("http://", "https://"))


def is_public(address: str) -> bool:
    """Tell whether an IP address is one a public web page may live at."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone says link-local anyway
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_reserved or ip.is_unspecified)


def fetch_page(url: str, timeout: float | None = None, max_bytes: int | None = None,
               allow_hosts: Collection[str] = ()) -> Page:
    """Download `url` from a public address; raise ImportRefused naming the failure and the fix.

    `allow_hosts`: host names (or addresses) fetched even where they resolve to an
    internal address.
    """
    timeout = timeout or FETCH_SECONDS
    max_bytes = max_bytes or MAX_PAGE_BYTES
    allowed = {host.strip().lower().strip("[]") for host in allow_hosts if host.strip()}
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False,
                          headers={"User-Agent": USER_AGENT}) as client:
            return _follow(client, url, allowed, max_bytes, deadline)
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


def _follow(client: httpx.Client, url: str, allowed: set[str], max_bytes: int,
            deadline: float) -> Page:
    """Request `url`, then each redirect's target, every one checked before it is asked."""
    current = httpx.URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        request = _pinned(client, url, current, allowed)
        response = client.send(request, stream=True)
        try:
            if response.is_redirect:
                current = current.join(response.headers["location"])
                continue
            _check_status(url, response)
            return Page(str(current), _body(url, response, max_bytes, deadline),
                        response.headers.get("content-type", ""))
        finally:
            response.close()
    raise httpx.TooManyRedirects("too many redirects")


def _pinned(client: httpx.Client, url: str, target: httpx.URL,
            allowed: set[str]) -> httpx.Request:
    """Build the request for `target` sent to the address its host resolved to and passed."""
    if target.scheme not in ("http", "https"):
        raise ImportRefused(f"{url}: leads to '{target}', not an http(s) address; import the "
                            "article's own web address")
    host = target.raw_host.decode("ascii")
    address = _checked_address(url, target, host, allowed)
    headers = {"Host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    return client.build_request("GET", target.copy_with(host=address), headers=headers,
                                extensions=extensions)


def _checked_address(url: str, target: httpx.URL, host: str, allowed: set[str]) -> str:
    """Resolve `host` once; return its first address if every one of them may be fetched."""
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise ImportRefused(f"{url}: the host {host} cannot be found ({err}); check the "
                            "address") from None
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise ImportRefused(f"{url}: the host {host} has no address; check the address")
    if host.lower() not in allowed:
        for address in addresses:
            if not is_public(address):
                where = "" if str(target) == url else f" (redirected to {target})"
                raise ImportRefused(
                    f"{url}: {host} is an internal address ({address}){where}; linli fetches "
                    f"only public web pages. If this host is meant to be imported from, an "
                    f"admin adds it to {ALLOW_HOSTS_SETTING}")
    return addresses[0]


def _body(url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """Read the response within the size cap and the deadline."""
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
    return bytes(data)


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
