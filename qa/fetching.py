"""Fetch feeds and pages politely and within limits: http(s) only, bounded in time, size and
redirects, content types checked, one request at a time per host with a delay between them."""

from __future__ import annotations

import functools
import http.client
import io
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

from qa import __version__
from qa.config import Settings
from qa.errors import FetchError

USER_AGENT = f"releases-qa/{__version__} (press-release feed sync)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
REDIRECTS = {301, 302, 303, 307, 308}
READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class Response:
    """A fetched document (``status`` 200), or ``status`` 304 when it had not changed."""

    url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    def text(self) -> str | bytes:
        """Return the body decoded by its declared charset, or the bytes for the parser to sniff."""
        if self.charset:
            try:
                return self.body.decode(self.charset, errors="replace")
            except LookupError:  # an unknown charset name
                pass
        return self.body


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand redirects back as errors: ``Fetcher.get`` follows them itself, counted and checked."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        return None


def _time_left(deadline: float) -> float:
    """Return the seconds left until ``deadline``; raise ``TimeoutError`` when none are."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the deadline of the response has passed")
    return remaining


class _DeadlineReader(io.RawIOBase):
    """The socket reader of a response, giving each read of the socket only the time left."""

    def __init__(self, raw: Any, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._raw = raw  # the response's socket.SocketIO
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        self._sock.settimeout(_time_left(self._deadline))
        return self._raw.readinto(buffer)

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """A response whose status line, headers and body must all arrive by ``deadline``.

    A socket timeout bounds each read alone: a server sending a byte just within it holds
    the reader for as long as it likes. So every read of the socket waits only for what is
    left until the deadline, and one past it raises ``TimeoutError``.
    """

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
        *,
        deadline: float,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        self.fp = io.BufferedReader(_DeadlineReader(self.fp.detach(), sock, deadline))


class _DeadlineOpen(urllib.request.AbstractHTTPHandler):
    """Take an opener's ``timeout`` as a deadline for the whole exchange: the connection
    (and TLS handshake), sending the request and every read of the response."""

    def do_open(self, http_class: Any, req: Any, **http_conn_args: Any) -> Any:
        deadline = time.monotonic() + float(req.timeout)

        def connect(address: Any, timeout: Any, source_address: Any = None) -> socket.socket:
            sock = socket.create_connection(address, _time_left(deadline), source_address)
            try:
                sock.settimeout(_time_left(deadline))  # left for the TLS handshake and request
            except BaseException:
                sock.close()
                raise
            return sock

        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            conn = http_class(host, **kwargs)
            conn._create_connection = connect
            conn.response_class = functools.partial(_DeadlineResponse, deadline=deadline)
            return conn

        return super().do_open(connection, req, **http_conn_args)


class _DeadlineHTTPHandler(_DeadlineOpen, urllib.request.HTTPHandler):
    pass


class _DeadlineHTTPSHandler(_DeadlineOpen, urllib.request.HTTPSHandler):
    pass


class Fetcher:
    """An HTTP client that keeps every limit of ``Settings`` (QA_FETCH_*)."""

    def __init__(
        self,
        timeout: float = 20.0,
        max_bytes: int = 5_000_000,
        delay: float = 1.0,
        max_redirects: int = 5,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.delay = delay
        self.max_redirects = max_redirects
        self._last: dict[str, float] = {}  # host -> when its last response ended
        self._opener = urllib.request.build_opener(
            _NoRedirects(), _DeadlineHTTPHandler(), _DeadlineHTTPSHandler()
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        """Return a fetcher with the configured limits."""
        return cls(
            timeout=settings.fetch_timeout,
            max_bytes=settings.fetch_max_bytes,
            delay=settings.fetch_delay,
            max_redirects=settings.fetch_max_redirects,
        )

    def get(
        self,
        url: str,
        accept: Collection[str],
        etag: str | None = None,
        last_modified: str | None = None,
        public_only: bool = False,
    ) -> Response:
        """Fetch ``url``, whose content type must be one of ``accept``; raise ``FetchError``.

        With ``etag`` or ``last_modified`` from an earlier response, an unchanged document
        comes back as status 304 without a body. The whole exchange, redirects included, must
        end within the timeout. With ``public_only`` (an address taken from a public feed), no
        hop may go to a loopback, private, link-local or other non-public address.
        """
        deadline = time.monotonic() + self.timeout
        for _hop in range(self.max_redirects + 1):
            _check_scheme(url)
            if public_only and is_internal(url):
                raise FetchError(
                    f"{urlsplit(url).hostname} is a local or private address, linked from a "
                    "public feed: not fetched"
                )
            headers = {"User-Agent": USER_AGENT, "Accept": ", ".join(sorted(accept))}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            host = (urlsplit(url).hostname or "").lower()
            self._wait_for(host)
            try:
                location = self._exchange(url, headers, deadline, accept)
            finally:
                self._last[host] = time.monotonic()
            if isinstance(location, Response):
                return location
            url = urljoin(url, location)
        raise FetchError(f"more than {self.max_redirects} redirects (QA_FETCH_MAX_REDIRECTS)")

    def _wait_for(self, host: str) -> None:
        if host in self._last:
            wait = self._last[host] + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def _exchange(
        self, url: str, headers: dict[str, str], deadline: float, accept: Collection[str]
    ) -> Response | str:
        """Make one request: return the response, or the address a redirect points to."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        request = urllib.request.Request(url, headers=headers)
        try:
            resp = self._opener.open(request, timeout=remaining)
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code in REDIRECTS and exc.headers.get("Location"):
                    return str(exc.headers["Location"])
                if exc.code == 304:
                    return Response(url=url, status=304)
                raise FetchError(f"HTTP {exc.code} {exc.reason}") from None
        except TimeoutError:
            raise self._timed_out() from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timed_out() from None
            raise FetchError(f"cannot connect: {exc.reason}") from None
        except (OSError, ValueError) as exc:  # a broken connection or status line
            raise FetchError(f"cannot fetch: {exc}") from None
        with resp:
            info: Message = resp.headers
            content_type = info.get_content_type() if info.get("Content-Type") else ""
            if content_type and content_type not in accept:
                raise FetchError(f"{content_type} is not one of {', '.join(sorted(accept))}")
            encoding = info.get("Content-Encoding", "identity").lower()
            if encoding != "identity":
                raise FetchError(f"{encoding}-encoded response, which was not asked for")
            declared = info.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_big(int(declared))
            body = self._read(resp, deadline)
            return Response(
                url=resp.url,
                status=resp.status,
                body=body,
                content_type=content_type,
                charset=info.get_content_charset(),
                etag=info.get("ETag"),
                last_modified=info.get("Last-Modified"),
            )

    def _read(self, resp: http.client.HTTPResponse, deadline: float) -> bytes:
        """Read the body in pieces, so that neither a slow nor an endless one gets past a limit."""
        parts: list[bytes] = []
        size = 0
        while True:
            try:
                part = resp.read1(READ_SIZE)
            except TimeoutError:
                raise self._timed_out() from None
            except OSError as exc:
                raise FetchError(f"connection broke while reading: {exc}") from None
            if not part:
                return b"".join(parts)
            size += len(part)
            if size > self.max_bytes:
                raise self._too_big(None)
            if time.monotonic() > deadline:
                raise self._timed_out()
            parts.append(part)

    def _timed_out(self) -> FetchError:
        return FetchError(f"timed out after {self.timeout:g} s (QA_FETCH_TIMEOUT)")

    def _too_big(self, size: int | None) -> FetchError:
        what = f"{size:,} bytes" if size is not None else "larger"
        return FetchError(
            f"response is {what}, over the limit of {self.max_bytes:,} (QA_FETCH_MAX_BYTES)"
        )


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url!r}: only http:// and https:// addresses are fetched")


def is_internal(url: str) -> bool:
    """Whether the host of ``url`` is, or resolves to, a loopback, private, link-local or
    otherwise non-public address (an unresolvable host is left to the fetch to fail on)."""
    return any(not a.is_global for a in _addresses(url))


def is_intranet(url: str) -> bool:
    """Whether the host of ``url`` resolves to non-public addresses only: a feed there may
    list pages on the local network. A host with a public address among others is not."""
    addresses = _addresses(url)
    return bool(addresses) and not any(a.is_global for a in addresses)


def _addresses(url: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
