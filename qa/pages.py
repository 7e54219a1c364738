"""HTML pages read into a release: the title, date and canonical address a page states, its
text as trafilatura extracts it (paragraphs, bullets, headings), and the id a page's address
gives."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from qa.release import Release, Unreadable, iso_date_of, make_release


def url_id(url: str) -> str:
    """Return a stable release id for a page: a slug of its address and a short hash of it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    normal = urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )
    segments = [s for s in parts.path.split("/") if s]
    stem = re.sub(
        r"\.(?:s?html?|php|aspx?)$", "", segments[-1] if segments else parts.hostname or ""
    )
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60].rstrip("-") or "page"
    return f"{slug}-{hashlib.sha256(normal.encode()).hexdigest()[:10]}"


def html_release(
    html: str | bytes,
    origin: str,
    *,
    id: str | None = None,
    url: str | None = None,
    title: str | None = None,
    date: str | None = None,
) -> Release:
    """Read a release from an HTML page: main text (trafilatura) and metadata.

    ``url`` is where the page was fetched: the page's canonical link wins when it is on the same
    host. ``title`` and ``date`` are used when the page has none. Without ``id`` (or a
    ``release-id`` meta tag) the id comes from the canonical address.
    """
    from urllib.parse import urljoin, urlsplit

    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is None:
        raise Unreadable("not an HTML page")

    def first(*xpaths: str) -> str | None:
        for xpath in xpaths:
            values = [str(v).strip() for v in tree.xpath(xpath) if str(v).strip()]
            if values:
                return values[0]
        return None

    canonical = first("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content")
    if canonical:
        canonical = urljoin(url or "", canonical).split("#")[0]
        where = urlsplit(canonical)
        if where.scheme not in ("http", "https") or (
            url and _host(where.hostname) != _host(urlsplit(url).hostname)
        ):
            canonical = None  # a page may not claim another site's release
    site = first("//meta[@property='og:site_name']/@content")
    own_id = first("//meta[@name='release-id']/@content")
    doc: Any = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        # Dates from the page's markup only: a date guessed from the text is often another one.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        raise Unreadable("no body text")
    page_url = canonical or (url.split("#")[0] if url else None)
    page_title = doc.title or title or ""
    release_id = own_id or id or (url_id(page_url) if page_url else None)
    if not release_id:
        raise Unreadable("no release id and no address to make one from")
    return make_release(
        id=release_id,
        title=page_title,
        pieces=_extracted_pieces(doc.body, page_title),
        origin=origin,
        date=iso_date_of(doc.date or date, "page date"),
        url=page_url,
        source=site,
    )


def _host(name: str | None) -> str:
    name = (name or "").lower()
    return name[4:] if name.startswith("www.") else name


def _extracted_pieces(body: Any, title: str) -> list[tuple[str, str]]:
    """Turn trafilatura's XML body (head, p, list/item, quote, table) into pieces."""
    pieces: list[tuple[str, str]] = []

    def text(el: Any) -> str:
        return " ".join("".join(el.itertext()).split())

    for el in body:
        if el.tag == "head":
            pieces.append(("heading", text(el)))
        elif el.tag == "list":
            pieces.extend(("bullet", text(item)) for item in el.iter("item") if text(item))
        elif el.tag == "table":
            pieces.extend(
                ("paragraph", " | ".join(text(cell) for cell in row)) for row in el.iter("row")
            )
        else:
            pieces.append(("paragraph", text(el)))
    if pieces and pieces[0][0] == "heading" and pieces[0][1] == " ".join(title.split()):
        pieces = pieces[1:]  # the page's <h1> is the title
    return pieces
