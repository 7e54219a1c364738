"""`qa sync` and `qa import URL` against a local HTTP server serving fixture feeds and pages."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, FakeEncoder

from qa.build import rebuild_index
from qa.config import Settings
from qa.corpus import load_releases, url_id
from qa.errors import CorpusBusy, CorpusError, FetchError
from qa.exports import import_releases, write_atomically
from qa.fetching import HTML_TYPES, Fetcher
from qa.sync import LOCK_FILE, STATE_FILE, sync_feeds

DATA = Path(__file__).resolve().parent / "data" / "sync"
BOILERPLATE = (
    "cookies",
    "Accept all",
    "About us",
    "Careers",
    "Related news",
    "Minister visits border crossing",
    "All rights reserved",
    "Follow us",
)


@dataclass
class Route:
    """One response of the test server."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # seconds between 1 KiB pieces of the body
    sized: bool = True  # send Content-Length


@dataclass
class Site:
    """A local web server: routes by path (query included) and the requests it received."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, path: str, body: str | bytes, **kwargs: object) -> str:
        raw = body.replace("BASE_URL", self.base).encode() if isinstance(body, str) else body
        self.routes[path] = Route(raw, **kwargs)  # type: ignore[arg-type]
        return self.base + path

    def add_file(self, path: str, name: str, **kwargs: object) -> str:
        return self.add(path, (DATA / name).read_text(encoding="utf-8"), **kwargs)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers, _ in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        site.requests.append((self.path, dict(self.headers), time.monotonic()))
        route = site.routes.get(self.path)
        if route is None:
            route = Route(b"<h1>Not found</h1>", status=404)
        time.sleep(route.delay)
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        try:
            if route.status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.status == 200:
                self.send_header("ETag", etag)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.sized:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not route.trickle:
                self.wfile.write(route.body)
                return
            for start in range(0, len(route.body), 1024):
                self.wfile.write(route.body[start : start + 1024])
                self.wfile.flush()
                time.sleep(route.trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up on a slow or huge response


@pytest.fixture
def site() -> Iterator[Site]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = Site(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetcher() -> Fetcher:
    return Fetcher(timeout=0.5, max_bytes=100_000, delay=0.0, max_redirects=3)


def _port_seizure(site: Site, text: str | None = None) -> None:
    page = (DATA / "port-seizure.html").read_text(encoding="utf-8")
    if text is not None:
        page = page.replace("Four suspects were arrested", text)
    site.add("/news/port-seizure", page)
    site.add("/news/port-seizure?utm_source=rss", page)
    # The same release on a mirror: no canonical link, other surroundings, the same text.
    mirror = page.replace('<link rel="canonical" href="/news/port-seizure">', "").replace(
        "Ministry of Justice</a>", "Justice mirror</a>"
    )
    site.add("/mirror/port-seizure.html", mirror)


def _good_rss(site: Site) -> str:
    """A feed with the port seizure release (and its two duplicates) only."""
    _port_seizure(site)
    feed = (DATA / "feed.rss").read_text(encoding="utf-8")
    feed = feed[: feed.index("    <item>\n      <title>A release that was taken down")]
    return site.add(
        "/feed.rss", feed + "  </channel>\n</rss>\n", content_type="application/rss+xml"
    )


def _front_matter(path: Path) -> dict[str, object]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def _by_status(summary) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for o in summary.outcomes:
        out.setdefault(o.status, []).append(o.url)
    return out


def test_rss_item_becomes_a_release_without_the_boilerplate(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    feed = _good_rss(site)
    summary = sync_feeds([feed], corpus, fetcher)
    canonical = site.base + "/news/port-seizure"
    (new,) = [o for o in summary.outcomes if o.status == "new"]
    assert new.release_id == url_id(canonical) and new.release_id.startswith("port-seizure-")
    path = corpus / f"{new.release_id}.md"
    assert _front_matter(path) == {
        "id": new.release_id,
        "title": "Port authorities seize record cocaine shipment",
        "date": "2024-03-14",
        "url": canonical,
        "source": "Ministry of Justice: press releases",
        "tags": ["Drugs", "Customs"],
    }
    (release,) = load_releases([corpus]).releases
    assert release.place == "ROTTERDAM, Netherlands"
    assert release.text.startswith("ROTTERDAM, Netherlands — Customs officers at the port seized")
    assert [release.block_text(b) for b in release.blocks if b.kind == "bullet"] == [
        "the national customs service;",
        "the port police;",
        "Europol's drug trafficking unit.",
    ]
    assert "Joint investigation" in [
        release.block_text(b) for b in release.blocks if b.kind == "heading"
    ]
    assert "maximum sentence of 12 years" in release.text
    for words in BOILERPLATE:
        assert words not in release.text
    assert site.hits("/feed.rss")[0]["User-Agent"].startswith("releases-qa/")
    assert sorted(p.name for p in corpus.iterdir()) == sorted([path.name, STATE_FILE, LOCK_FILE])


def test_atom_entry_takes_date_tags_and_source_from_the_feed(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    site.add_file("/coastguard/rescue-42", "rescue-42.html")
    feed = site.add_file("/coastguard/feed.atom", "feed.atom", content_type="application/atom+xml")
    summary = sync_feeds([feed], tmp_path, fetcher)
    assert _by_status(summary) == {"new": [site.base + "/coastguard/rescue-42"]}
    (release,) = load_releases([tmp_path]).releases
    assert release.title == "Coast guard rescues fishing crew in storm"
    assert release.date == "2024-04-02"  # the page has none: the entry's, as written
    assert release.url == site.base + "/coastguard/rescue-42"
    assert release.source == "Coast Guard newsroom"
    assert release.tags == ("rescue", "Maritime safety")
    assert release.place == "HALIFAX, Nova Scotia"
    assert "six fishermen" in release.text
    assert "Jobs" not in release.text and "press office" not in release.text


def test_the_same_release_under_other_addresses_is_a_duplicate(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    summary = sync_feeds([_good_rss(site)], tmp_path, fetcher)
    release_id = url_id(site.base + "/news/port-seizure")
    reasons = {o.url.removeprefix(site.base): (o.status, o.reason) for o in summary.outcomes}
    assert reasons == {
        "/news/port-seizure": ("new", ""),
        "/news/port-seizure?utm_source=rss": ("duplicate", f"same address as {release_id}"),
        "/mirror/port-seizure.html": ("duplicate", f"same text as {release_id}"),
    }
    assert [p.name for p in tmp_path.glob("*.md")] == [f"{release_id}.md"]


def test_sync_again_changes_nothing_and_an_updated_page_updates_its_release(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    feed = _good_rss(site)
    first = sync_feeds([feed], tmp_path, fetcher)
    (path,) = tmp_path.glob("*.md")
    written = path.stat().st_mtime_ns
    state = (tmp_path / STATE_FILE).read_text()

    again = sync_feeds([feed], tmp_path, fetcher)
    assert _by_status(again) == {
        "unchanged": [site.base + "/news/port-seizure"],
        "duplicate": [
            site.base + "/news/port-seizure?utm_source=rss",
            site.base + "/mirror/port-seizure.html",
        ],
    }
    # Asked with its validator (answered 304); the known duplicates are not fetched again.
    assert "If-None-Match" in site.hits("/news/port-seizure")[-1]
    assert len(site.hits("/mirror/port-seizure.html")) == 1
    assert path.stat().st_mtime_ns == written
    assert (
        json.loads((tmp_path / STATE_FILE).read_text())["releases"] == json.loads(state)["releases"]
    )

    _port_seizure(site, text="Five suspects were arrested")
    updated = sync_feeds([feed], tmp_path, fetcher)
    release_id = first.outcomes[0].release_id
    assert [(o.status, o.release_id) for o in updated.outcomes if o.status != "duplicate"] == [
        ("updated", release_id)
    ]
    (release,) = load_releases([tmp_path]).releases
    assert release.id == release_id
    assert "Five suspects were arrested" in release.text and "Four suspects" not in release.text


def test_failed_items_are_reported_written_nowhere_and_retried(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    big = (
        b"<html><body>" + b"<p>Filler paragraph of a very long page.</p>" * 5000 + b"</body></html>"
    )
    site.add("/news/slow", "<p>Too late.</p>", delay=1.5)
    site.add("/news/huge", big)
    site.add("/files/annual-report.pdf", b"%PDF-1.7\n", content_type="application/pdf")
    feed = (DATA / "feed.rss").read_text(encoding="utf-8")
    feed = feed.replace(
        "</channel>",
        "<item><link>BASE_URL/news/huge-unsized</link></item>\n"
        "<item><link>BASE_URL/logo.png</link></item></channel>",
    )
    site.add("/news/huge-unsized", big, sized=False)
    site.add("/logo.png", b"\x89PNG\r\n", content_type="image/png")
    _port_seizure(site)
    url = site.add("/feed.rss", feed, content_type="application/rss+xml")

    started = time.monotonic()
    summary = sync_feeds([url], tmp_path, fetcher)
    assert time.monotonic() - started < 5
    failed = {
        o.url.removeprefix(site.base): o.reason for o in summary.outcomes if o.status == "failed"
    }
    assert failed == {
        "/news/withdrawn": "HTTP 404 Not Found",
        "/news/slow": "timed out after 0.5 s (QA_FETCH_TIMEOUT)",
        "/news/huge": f"response is {len(big):,} bytes, over the limit of 100,000 "
        "(QA_FETCH_MAX_BYTES)",
        "/news/huge-unsized": "response is larger, over the limit of 100,000 (QA_FETCH_MAX_BYTES)",
        "/files/annual-report.pdf": "application/pdf is not one of application/xhtml+xml, "
        "text/html",
        "/logo.png": "image/png is not one of application/xhtml+xml, text/html",
    }
    assert summary.count("new") == 1 and not summary.synced_nothing
    assert len(list(tmp_path.glob("*.md"))) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    items = json.loads((tmp_path / STATE_FILE).read_text())["items"]
    withdrawn = items[site.base + "/news/withdrawn"]
    assert (withdrawn["error"], withdrawn["failures"], withdrawn["release"]) == (
        "HTTP 404 Not Found",
        1,
        None,
    )

    site.add("/news/withdrawn", (DATA / "rescue-42.html").read_text(encoding="utf-8"))
    retried = sync_feeds([url], tmp_path, fetcher)
    assert [o.url for o in retried.outcomes if o.status == "new"] == [site.base + "/news/withdrawn"]
    assert retried.count("failed") == 5
    entry = json.loads((tmp_path / STATE_FILE).read_text())["items"][site.base + "/news/slow"]
    assert entry["failures"] == 2


def test_a_malformed_feed_or_a_page_given_as_a_feed_fails_alone(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    site.add_file("/coastguard/rescue-42", "rescue-42.html")
    atom = site.add_file("/coastguard/feed.atom", "feed.atom", content_type="application/atom+xml")
    broken = site.add_file("/broken.rss", "malformed.rss", content_type="application/rss+xml")
    page = site.base + "/coastguard/rescue-42"
    xml_page = site.add(
        "/page.xml", "<html><body><p>Hello</p></body></html>", content_type="text/xml"
    )
    summary = sync_feeds([broken, page, xml_page, atom], tmp_path, fetcher)
    assert summary.feeds_read == 1 and summary.count("new") == 1
    failed = {o.url: o.reason for o in summary.outcomes if o.status == "failed"}
    assert failed[broken].startswith("malformed feed: ")
    assert failed[page].startswith("text/html is not one of ")
    assert failed[xml_page] == "not an RSS or Atom feed"
    assert all(not o.item for o in summary.outcomes if o.status == "failed")
    assert len(site.hits("/news/port-seizure")) == 0  # nothing taken from the broken feed


def test_redirects_are_followed_within_the_limit_and_only_to_http(
    site: Site, fetcher: Fetcher
) -> None:
    site.add_file("/coastguard/rescue-42", "rescue-42.html")
    for n in range(1, 4):
        site.add(
            f"/r{n}",
            "",
            status=302,
            headers={"Location": f"/r{n + 1}" if n < 3 else "/coastguard/rescue-42"},
        )
    assert fetcher.get(site.base + "/r1", HTML_TYPES).url == site.base + "/coastguard/rescue-42"
    site.add("/r0", "", status=301, headers={"Location": "/r1"})
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher.get(site.base + "/r0", HTML_TYPES)
    site.add("/loop", "", status=307, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher.get(site.base + "/loop", HTML_TYPES)
    for target in ("file:///etc/passwd", "ftp://127.0.0.1/x"):
        site.add("/away", "", status=302, headers={"Location": target})
        with pytest.raises(FetchError, match="only http:// and https://"):
            fetcher.get(site.base + "/away", HTML_TYPES)
    with pytest.raises(FetchError, match="only http:// and https://"):
        fetcher.get("file:///etc/passwd", HTML_TYPES)


def test_the_timeout_covers_the_whole_response(site: Site, fetcher: Fetcher) -> None:
    # Each piece comes in time, the whole page does not.
    site.add("/drip", b"<p>" + b"x" * 20_000 + b"</p>", trickle=0.05)
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out after 0.5 s"):
        fetcher.get(site.base + "/drip", HTML_TYPES)
    assert time.monotonic() - started < 1.5


@contextmanager
def _dripping_server(head: bytes, drip: bytes, gap: float) -> Iterator[str]:
    """Answer one request with ``head`` at once, then ``drip`` one byte every ``gap`` seconds."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(4096)
                conn.sendall(head)
                for byte in drip:
                    if stop.wait(gap):
                        return
                    conn.sendall(bytes([byte]))
        except OSError:
            pass  # the client hung up, as it should

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/drip"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


@pytest.mark.parametrize("slow", ["headers", "body"])
def test_the_timeout_is_one_deadline_however_slowly_the_bytes_come(slow: str) -> None:
    # The server of issue #23 sent a byte every 19 s against a 20 s timeout and took 38 s;
    # here a byte every 1.8 s against 2 s. Every socket read gets only the time left, so the
    # fetch ends at 2 s; waiting the whole timeout for each read, it ended at 3.6 s (a
    # trickled body) or later (trickled headers, which nothing checked).
    body = b"<p>late</p>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n"
    if slow == "headers":
        drip = b"\r\n" + body
    else:
        head, drip = head + b"\r\n", body
    fetcher = Fetcher(timeout=2.0, delay=0.0)
    with _dripping_server(head, drip, gap=1.8) as url:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"^timed out after 2 s \(QA_FETCH_TIMEOUT\)$"):
            fetcher.get(url, HTML_TYPES)
        elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 3.0  # the deadline, not one more wait for the next byte


def test_requests_to_one_host_are_spaced_by_the_delay(site: Site) -> None:
    site.add_file("/coastguard/rescue-42", "rescue-42.html")
    polite = Fetcher(timeout=2, delay=0.3)
    for _ in range(3):
        polite.get(site.base + "/coastguard/rescue-42", HTML_TYPES)
    times = [t for p, _, t in site.requests]
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.3


def test_import_reads_pages_by_address_next_to_files(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    _port_seizure(site)
    export = tmp_path / "export.csv"
    export.write_text("id,title,date,body\n7,Seven,2020-01-02,Body of seven.\n")
    corpus = tmp_path / "corpus"
    sources = [site.base + "/news/port-seizure?utm_source=rss", site.base + "/gone", export]
    summary = import_releases(sources, corpus, fetcher)
    release_id = url_id(site.base + "/news/port-seizure")
    assert sorted(summary.added) == sorted(["7", release_id])
    assert [(p.path, p.reason) for p in summary.skipped] == [
        (site.base + "/gone", "HTTP 404 Not Found")
    ]
    page = _front_matter(corpus / f"{release_id}.md")
    assert page["url"] == site.base + "/news/port-seizure"
    assert page["source"] == "Ministry of Justice"  # og:site_name
    assert sorted(import_releases(sources, corpus, fetcher).unchanged) == sorted(["7", release_id])


def test_one_sync_per_corpus_and_its_state_checked_and_written_atomically(
    site: Site, fetcher: Fetcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from filelock import FileLock

    feed = _good_rss(site)
    with FileLock(str(tmp_path / LOCK_FILE)), pytest.raises(CorpusBusy, match="another `qa sync`"):
        sync_feeds([feed], tmp_path, fetcher)
    (tmp_path / STATE_FILE).write_text('{"version": 99}')
    with pytest.raises(CorpusError, match="not a sync state file this version can read"):
        sync_feeds([feed], tmp_path, fetcher)

    target = tmp_path / "state.json"
    target.write_text("old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".state")] == []


def test_synced_releases_are_indexed_incrementally(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    settings = Settings.from_env(
        environ={}, corpus=(corpus,), index_dir=tmp_path / "index", model=FakeEncoder.name
    )
    site.add_file("/coastguard/rescue-42", "rescue-42.html")
    feeds = [_good_rss(site), site.add_file("/atom", "feed.atom", content_type="text/xml")]
    sync_feeds(feeds, corpus, fetcher)
    encoder = FakeEncoder()
    first = rebuild_index(settings, encoder=encoder)
    assert (first.added, first.releases) == (2, 2)
    _port_seizure(site, text="Five suspects were arrested")
    sync_feeds(feeds, corpus, fetcher)
    second = rebuild_index(settings, encoder=encoder)
    assert (second.changed, second.added, second.unchanged) == (1, 0, 1)
    assert 0 < second.embedded < second.chunks  # the other release's chunks came from the cache


def test_feeds_setting_splits_on_commas_and_spaces() -> None:
    settings = Settings.from_env({"QA_FEEDS": "https://a.example/rss, https://b.example/atom  x"})
    assert settings.feeds == ("https://a.example/rss", "https://b.example/atom", "x")
    assert Settings.from_env({}).feeds == ()
    with pytest.raises(ValueError, match="QA_FETCH_TIMEOUT"):
        Settings.from_env({"QA_FETCH_TIMEOUT": "0"})


def _cli(*args: str, env: dict[str, str]):
    from qa.cli import main

    return CliRunner().invoke(main, list(args), env={"QA_FETCH_DELAY": "0", **env})


def test_sync_command_prints_what_it_did_and_fails_only_when_nothing_synced(
    site: Site, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    feed = _good_rss(site)
    env = {"QA_FEEDS": feed, "QA_CORPUS": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index")}
    out = _cli("sync", "--no-build", "--feed", feed, "--feed", site.base + "/missing.rss", env=env)
    assert out.exit_code == 0, out.output
    release_id = url_id(site.base + "/news/port-seizure")
    assert f"new       {release_id}  {site.base}/news/port-seizure\n" in out.stdout
    assert (
        f"duplicate {release_id}  {site.base}/mirror/port-seizure.html  (same text as "
        in out.stdout
    )
    assert (
        f"failed feed {site.base}/missing.rss: HTTP 404 Not Found (tried again next time)"
        in out.stderr
    )
    assert (
        f"Synced 1 of 2 feeds into {corpus}/: 1 new, 0 updated, 0 unchanged, 2 duplicate, 1 failed."
        in out.stdout
    )
    again = _cli("sync", "--no-build", env=env)  # the feeds from QA_FEEDS
    assert again.exit_code == 0 and "1 unchanged, 2 duplicate, 0 failed." in again.stdout

    nothing = _cli("sync", "--feed", site.base + "/missing.rss", env=env)
    assert nothing.exit_code == 1 and "0 failed" not in nothing.stdout
    assert "Indexed" not in nothing.output
    no_feeds = _cli("sync", env={**env, "QA_FEEDS": ""})
    assert no_feeds.exit_code == 1 and "pass --feed URL or set QA_FEEDS" in no_feeds.output


@pytest.mark.model
def test_sync_then_ask_answers_from_the_synced_page_with_its_address_and_date(
    site: Site, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    site.add_file("/coastguard/rescue-42", "rescue-42.html")
    atom = site.add_file("/coastguard/feed.atom", "feed.atom", content_type="application/atom+xml")
    rss = _good_rss(site)
    index = tmp_path / "index"
    env = {**os.environ, "QA_FETCH_DELAY": "0"}

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qa", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=600,
        )

    synced = qa(
        "sync",
        "--feed",
        rss,
        "--feed",
        atom,
        "--corpus",
        str(tmp_path / "corpus"),
        "--index",
        str(index),
    )
    assert synced.returncode == 0, synced.stderr
    assert "2 new" in synced.stdout and "Indexed 2 releases" in synced.stdout

    out = qa("ask", "How many fishermen did the coast guard rescue?", "--index", str(index))
    assert out.returncode == 0, out.stderr
    assert "six fishermen" in out.stdout
    title = "Coast guard rescues fishing crew in storm"
    assert f"[1] {title} (2024-04-02) {site.base}/coastguard/rescue-42" in out.stdout


def test_a_public_feed_cannot_send_the_fetcher_to_the_local_network(
    site: Site, fetcher: Fetcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipaddress

    import qa.fetching
    import qa.sync
    from qa.fetching import is_internal, is_intranet

    # literal addresses only: no name is looked up
    assert is_internal("http://127.0.0.1:8000/x") and is_internal("http://169.254.169.254/")
    assert is_internal("http://10.1.2.3/") and is_internal("http://[::1]/")
    assert is_internal("http://[::ffff:127.0.0.1]/") and is_intranet("http://10.1.2.3/")
    assert not is_internal("http://8.8.8.8/") and not is_intranet("http://8.8.8.8/")
    # a host with a public address among private ones is no intranet, and is refused
    mixed = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("127.0.0.1")]
    monkeypatch.setattr(qa.fetching, "_addresses", lambda url: mixed)
    assert is_internal("http://mixed.example/") and not is_intranet("http://mixed.example/")
    monkeypatch.undo()

    page = site.add("/news/inside", "<p>Internal memo.</p>")
    with pytest.raises(FetchError, match="local or private address"):
        fetcher.get(page, HTML_TYPES, public_only=True)
    assert fetcher.get(page, HTML_TYPES).status == 200  # an address the user gave
    # nor may a redirect lead there
    site.add("/out", "", status=302, headers={"Location": "http://169.254.169.254/latest/"})
    monkeypatch.setattr(qa.fetching, "is_internal", lambda url: "169.254" in url)
    with pytest.raises(FetchError, match="169.254.169.254 is a local or private address"):
        fetcher.get(site.base + "/out", HTML_TYPES, public_only=True)
    monkeypatch.undo()

    # A feed on a local address (an intranet) may list local pages; one on the internet (made
    # so here: the feed's host reads as public) may not, and nothing is fetched or written.
    feed = _good_rss(site)
    monkeypatch.setattr(qa.sync, "is_intranet", lambda url: False)
    summary = sync_feeds([feed], tmp_path, fetcher)
    assert summary.feeds_read == 1 and not _by_status(summary).get("new")
    reasons = {o.reason for o in summary.outcomes if o.status == "failed"}
    assert reasons and all("local or private address" in r for r in reasons)
    assert not site.hits("/news/port-seizure")
    assert not list(tmp_path.glob("*.md"))


def _long_feed(site: Site, n: int, dated: bool = True, slow_from: int = 0) -> str:
    """A feed of ``n`` releases /news/1 ... /news/n, listed oldest first (dated a day apart,
    or undated); from page ``slow_from`` on, the server waits 30 s before answering."""
    page = (DATA / "port-seizure.html").read_text(encoding="utf-8")
    page = page.replace('<link rel="canonical" href="/news/port-seizure">', "")
    items = []
    for k in range(1, n + 1):
        delay = 30.0 if slow_from and k >= slow_from else 0.0
        text = page.replace("Four suspects were arrested", f"{k} suspects were arrested")
        link = site.add(f"/news/{k}", text, delay=delay)
        date = f"<pubDate>Mon, {k:02d} Jan 2024 09:00:00 GMT</pubDate>" if dated else ""
        items.append(f"<item><title>Release {k}</title><link>{link}</link>{date}</item>")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Justice</title>'
        f"<link>{site.base}/news</link>{''.join(items)}</channel></rss>"
    )
    return site.add("/long.rss" if dated else "/undated.rss", feed, content_type="text/xml")


def _pages(summary, status: str) -> list[str]:
    return [o.url.split("/", 3)[3] for o in summary.outcomes if o.status == status]


def test_a_run_takes_at_most_max_items_of_a_feed_and_leaves_the_rest_for_the_next(
    site: Site, fetcher: Fetcher, tmp_path: Path
) -> None:
    feed = _long_feed(site, 7)
    out = io.StringIO()
    first = sync_feeds([feed], tmp_path, fetcher, max_items=3, progress=out)
    # the newest three (the last of the feed), synced in the feed's order
    assert _pages(first, "new") == ["news/5", "news/6", "news/7"] and len(first.outcomes) == 3
    assert first.waiting == {feed: 4}
    assert out.getvalue() == (
        f"feed {feed}: 7 items, took 3 (QA_SYNC_MAX_ITEMS), the rest next run (4 not synced yet)\n"
    )
    assert not site.hits("/news/4")
    # the next runs go on with the items not synced yet, newest first
    second = sync_feeds([feed], tmp_path, fetcher, max_items=3)
    assert _pages(second, "new") == ["news/2", "news/3", "news/4"] and len(second.outcomes) == 3
    out = io.StringIO()
    third = sync_feeds([feed], tmp_path, fetcher, max_items=3, progress=out)
    assert _pages(third, "new") == ["news/1"] and _pages(third, "unchanged") == ["news/6", "news/7"]
    assert third.waiting == {}
    assert out.getvalue() == (
        f"feed {feed}: 7 items, took 3 (QA_SYNC_MAX_ITEMS); the other 4, synced before, are not "
        "checked this run\n"
    )
    state = json.loads((tmp_path / STATE_FILE).read_text())
    assert len(state["items"]) == len(state["releases"]) == 7
    assert len(sync_feeds([feed], tmp_path, fetcher).outcomes) == 7  # 0: no limit

    # without dates in the feed, its first items come first
    undated = _long_feed(site, 7, dated=False)
    summary = sync_feeds([undated], tmp_path / "undated", fetcher, max_items=2)
    assert _pages(summary, "new") == ["news/1", "news/2"] and summary.waiting == {undated: 5}

    # `qa sync` takes QA_SYNC_MAX_ITEMS and says so on stderr
    corpus = tmp_path / "cli"
    env = {"QA_CORPUS": str(corpus), "QA_SYNC_MAX_ITEMS": "4"}
    result = _cli("sync", "--no-build", "--feed", feed, env=env)
    assert result.exit_code == 0, result.output
    assert (
        f"feed {feed}: 7 items, took 4 (QA_SYNC_MAX_ITEMS), the rest next run (3 not synced yet)"
        in result.stderr
    )
    assert "4 new, 0 updated" in result.stdout
    assert Settings.from_env({}).sync_max_items == 500


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_item_by_item_on_a_terminal_and_now_and_then_in_a_log(
    site: Site, fetcher: Fetcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.sync

    feed = _long_feed(site, 3)
    terminal = _Terminal()
    handler = signal.getsignal(signal.SIGTERM)
    sync_feeds([feed], tmp_path / "a", fetcher, progress=terminal)
    assert terminal.getvalue() == "".join(f"\rfeed {feed}: {k}/3 items" for k in (1, 2, 3)) + "\n"
    assert signal.getsignal(signal.SIGTERM) is handler  # put back after the sync

    log = io.StringIO()
    sync_feeds([feed], tmp_path / "b", fetcher, progress=log)
    assert log.getvalue() == ""  # a short feed says nothing in a log
    monkeypatch.setattr(qa.sync, "PROGRESS_SECONDS", 0.0)
    log = io.StringIO()
    # in another thread (which cannot handle signals) it works all the same
    thread = threading.Thread(target=sync_feeds, args=([feed], tmp_path / "c", fetcher, 0, log))
    thread.start()
    thread.join(30)
    assert log.getvalue().splitlines() == [f"feed {feed}: {k}/3 items" for k in (1, 2, 3)]
    assert len(list((tmp_path / "c").glob("*.md"))) == 3


def _sigint_as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_a_sync_as_ctrl_c_does_with_what_was_done_saved(
    site: Site, tmp_path: Path, stop: signal.Signals
) -> None:
    import os
    import subprocess
    import sys

    feed = _long_feed(site, 6, slow_from=3)  # pages 1 and 2 come at once, page 3 never does
    corpus = tmp_path / "corpus"
    sync = subprocess.Popen(
        [sys.executable, "-m", "qa", "sync", "--no-build", "--feed", feed, "--corpus", str(corpus)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "QA_FETCH_DELAY": "0"},
        cwd=REPO,
        # Ctrl-C as at a terminal: a suite started in the background (`pytest &` from a
        # script) hands its children SIGINT ignored, and Python then sets no handler of its own
        preexec_fn=_sigint_as_at_a_terminal,
    )
    try:
        deadline = time.monotonic() + 60
        while not site.hits("/news/3") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert site.hits("/news/3"), "the sync never got to the third page"
        sync.send_signal(stop)
        _, stderr = sync.communicate(timeout=30)
    finally:
        sync.kill()
        sync.wait()
    name = "SIGTERM" if stop == signal.SIGTERM else "Ctrl-C (SIGINT)"
    assert sync.returncode == 1, stderr
    assert (
        f"sync stopped by {name} after 2 items; what they did is saved in {corpus / STATE_FILE}, "
        "and the next `qa sync` goes on from there" in stderr
    )
    assert "Traceback" not in stderr
    state = json.loads((corpus / STATE_FILE).read_text())
    done = [site.base + "/news/1", site.base + "/news/2"]
    assert sorted(state["items"]) == done
    assert sorted(r["item"] for r in state["releases"].values()) == done
    assert len(list(corpus.glob("*.md"))) == 2
    assert not [p for p in corpus.iterdir() if p.name.endswith(".tmp")]
