"""Keep the corpus in step with RSS/Atom feeds: fetch each item's page, store it as a release.

What was seen is kept in ``<corpus>/.sync-state.json`` (``sync_state``, written atomically):
each item's address -> its release, content hash, validators for conditional requests and its
last failure. A release belongs to the first item that produced it; another item whose page has
the same canonical address or the same text is a duplicate and writes nothing.

A run takes at most ``max_items`` items from one feed (QA_SYNC_MAX_ITEMS), says how far it got,
and saves the state when stopped by Ctrl-C or SIGTERM, so a long feed is synced over several runs.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from qa.corpus import Unreadable, iso_date
from qa.errors import CorpusBusy, FetchError
from qa.exports import file_name, page_release, write_release
from qa.fetching import FEED_TYPES, HTML_TYPES, Fetcher, is_intranet
from qa.sync_state import STATE_FILE, ItemState, ReleaseState, SyncState, content_hash

LOCK_FILE = ".sync.lock"
# Parser complaints that leave a feed whole; any other one means it was cut or garbled.
BENIGN_FEED_PROBLEMS = ("CharacterEncodingOverride", "NonXMLContentType")
# Seconds between two progress lines when the progress stream is no terminal (a log).
PROGRESS_SECONDS = 30.0


class Terminated(KeyboardInterrupt):
    """SIGTERM during a sync: stops it as Ctrl-C does, the state saved."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: the page it links to and what the feed says about it."""

    link: str
    title: str | None = None
    date: str | None = None  # ISO
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    """A feed as read: its address, title and items."""

    url: str
    title: str
    items: tuple[FeedItem, ...]


@dataclass(frozen=True)
class Outcome:
    """What became of one feed item (or of a feed that could not be read: ``item`` False)."""

    status: str  # "new" | "updated" | "unchanged" | "duplicate" | "failed"
    url: str
    release_id: str | None = None
    reason: str = ""  # why it failed, or what it duplicates
    item: bool = True


@dataclass
class SyncSummary:
    """What a sync did: feeds read and one outcome per item (and per unreadable feed)."""

    feeds_read: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    # feed -> its items not synced yet that were left for a later run (QA_SYNC_MAX_ITEMS)
    waiting: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """Return how many outcomes have ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def changed(self) -> bool:
        """Whether any release was written."""
        return any(o.status in ("new", "updated") for o in self.outcomes)

    @property
    def synced_nothing(self) -> bool:
        """Whether something failed and no item was synced at all."""
        return self.count("failed") > 0 and all(o.status == "failed" for o in self.outcomes)


def read_feed(fetcher: Fetcher, url: str) -> Feed:
    """Fetch and parse an RSS or Atom feed; raise ``FetchError`` or ``Unreadable``."""
    import feedparser

    resp = fetcher.get(url, FEED_TYPES)
    headers = {"content-location": resp.url}
    if resp.content_type:
        headers["content-type"] = resp.content_type + (
            f"; charset={resp.charset}" if resp.charset else ""
        )
    parsed = feedparser.parse(resp.body, response_headers=headers)
    problem = parsed.get("bozo_exception")
    if problem is not None and type(problem).__name__ not in BENIGN_FEED_PROBLEMS:
        raise Unreadable(f"malformed feed: {' '.join(str(problem).split())[:200]}")
    if not parsed.get("version"):
        raise Unreadable("not an RSS or Atom feed")
    items = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if link:
            items.append(
                FeedItem(
                    link=link,
                    title=entry.get("title") or None,
                    date=iso_date(entry.get("published") or entry.get("updated")),
                    tags=tuple(
                        str(t.get("label") or t.get("term") or "").strip()
                        for t in entry.get("tags", [])
                    ),
                )
            )
    title = " ".join(str(parsed.feed.get("title") or "").split())
    return Feed(url=url, title=title or urlsplit(resp.url).hostname or url, items=tuple(items))


def _entry_link(entry: Any) -> str | None:
    links = [entry.get("link")] + [
        link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"
    ]
    return next((str(link).split("#")[0] for link in links if link), None)


def sync_feeds(
    feeds: list[str],
    corpus: Path,
    fetcher: Fetcher,
    max_items: int = 0,
    progress: TextIO | None = None,
) -> SyncSummary:
    """Read each feed and bring its items' pages into ``corpus`` as releases.

    Known pages are asked for again with their validators (an unchanged page costs a 304);
    one sync per corpus at a time. At most ``max_items`` items of a feed are taken (0: all; see
    ``take_items``). How far each feed got, and why items were left, is written to
    ``progress``. Ctrl-C or SIGTERM (in the main thread) stops the sync where it is, with what
    was done saved in the state file, and raises ``KeyboardInterrupt`` (SIGTERM: ``Terminated``).
    """
    from filelock import FileLock, Timeout

    corpus.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(corpus / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise CorpusBusy(
            f"another `qa sync` is writing {corpus}/ (lock {corpus / LOCK_FILE}): wait for it"
        ) from None
    try:
        state_path = corpus / STATE_FILE
        state = SyncState.load(state_path)
        summary = SyncSummary()
        seen: dict[str, str] = {}  # item address -> the feed that listed it first in this run
        report = _Progress(progress)
        stopped_by = ""
        with _sigterm_stops_like_ctrl_c():
            try:
                for url in feeds:
                    try:
                        feed = read_feed(fetcher, url)
                    except (FetchError, Unreadable) as exc:
                        summary.outcomes.append(Outcome("failed", url, reason=str(exc), item=False))
                        continue
                    summary.feeds_read += 1
                    # a feed on the internet may not send the fetcher to the local network (an
                    # item linking to 127.0.0.1 or 169.254.169.254); one only on it may (an
                    # intranet)
                    public = not is_intranet(feed.url)
                    items, waiting = take_items(feed.items, max_items, state)
                    if len(items) < len(feed.items):
                        report.note(_cap_note(feed, len(items), waiting))
                        if waiting:
                            summary.waiting[feed.url] = waiting
                    report.start(feed.url, len(items))
                    for done, item in enumerate(items, 1):
                        if item.link in seen:
                            reason = f"listed again (first in {seen[item.link]})"
                            summary.outcomes.append(Outcome("duplicate", item.link, reason=reason))
                        else:
                            seen[item.link] = feed.url
                            summary.outcomes.append(
                                _sync_item(item, feed, state, corpus, fetcher, public)
                            )
                        report.step(done)
                    report.end()
                    state.save(state_path)
            except KeyboardInterrupt as exc:
                stopped_by = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"
                raise
            finally:
                report.end()
                state.save(state_path)
                if stopped_by:
                    items_done = sum(1 for o in summary.outcomes if o.item)
                    report.note(
                        f"sync stopped by {stopped_by} after {items_done:,} items; what they did "
                        f"is saved in {state_path}, and the next `qa sync` goes on from there"
                    )
        return summary
    finally:
        lock.release()


def take_items(
    items: tuple[FeedItem, ...], max_items: int, state: SyncState
) -> tuple[list[FeedItem], int]:
    """Choose the items of a feed that one run syncs, at most ``max_items`` (0: all of them).

    Items not synced before (not in ``state``) come first, so that a long feed is worked
    through over several runs; among each kind the newest come first when every item has a
    date, else the feed's first. Return the chosen items in the feed's order, and how many
    items not synced before were left for a later run.
    """
    if max_items <= 0 or len(items) <= max_items:
        return list(items), 0
    order = list(range(len(items)))
    if all(item.date for item in items):
        order.sort(key=lambda i: items[i].date or "", reverse=True)  # stable: ties keep order
    order.sort(key=lambda i: items[i].link in state.items)
    waiting = sum(1 for i in order[max_items:] if items[i].link not in state.items)
    return [items[i] for i in sorted(order[:max_items])], waiting


def _cap_note(feed: Feed, taken: int, waiting: int) -> str:
    total = len(feed.items)
    head = f"feed {feed.url}: {total:,} items, took {taken:,} (QA_SYNC_MAX_ITEMS)"
    if waiting:
        return f"{head}, the rest next run ({waiting:,} not synced yet)"
    return f"{head}; the other {total - taken:,}, synced before, are not checked this run"


class _Progress:
    """Say how far the sync of a feed got: on a terminal a line rewritten after every item,
    elsewhere (a log) a line every ``PROGRESS_SECONDS`` at most; nothing without a stream."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.terminal = stream is not None and stream.isatty()
        self.feed = ""
        self.total = 0
        self.last = 0.0  # when the last line was written
        self.open = False  # a terminal line is not ended yet

    def start(self, feed: str, total: int) -> None:
        self.feed, self.total, self.last = feed, total, time.monotonic()

    def step(self, done: int) -> None:
        if self.stream is None:
            return
        line = f"feed {self.feed}: {done:,}/{self.total:,} items"
        if self.terminal:
            self.stream.write(f"\r{line}")
            self.open = True
        elif time.monotonic() - self.last >= PROGRESS_SECONDS:
            self.stream.write(f"{line}\n")
            self.last = time.monotonic()
        else:
            return
        self.stream.flush()

    def end(self) -> None:
        if self.stream is not None and self.open:
            self.stream.write("\n")
            self.stream.flush()
        self.open = False

    def note(self, message: str) -> None:
        """Write a line of its own (ending a terminal's progress line first)."""
        self.end()
        if self.stream is not None:
            self.stream.write(f"{message}\n")
            self.stream.flush()


@contextmanager
def _sigterm_stops_like_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``) where the
    sync is, so that it stops as on Ctrl-C, its state saved; the handler before comes back
    after. Only the main thread can handle signals: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal raised
        if not raised:  # once: a second SIGTERM does not cut the saving of the state short
            raised = True
            raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _sync_item(
    item: FeedItem, feed: Feed, state: SyncState, corpus: Path, fetcher: Fetcher, public: bool
) -> Outcome:
    known = state.items.get(item.link)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if known and known.duplicate_of and known.duplicate_of in state.releases:
        reason = f"known duplicate of {known.duplicate_of}"
        return Outcome("duplicate", item.link, known.duplicate_of, reason)
    # Conditional headers only while the release file is there to stand for the page.
    if not (known and known.release and _has_file(corpus, known.release)):
        known = None
    try:
        page = fetcher.get(
            item.link,
            HTML_TYPES,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
            public_only=public,
        )
        if page.status == 304 and known:  # unchanged since the last sync
            known.error, known.failures, known.checked = None, 0, now
            return Outcome("unchanged", item.link, known.release)
        release = page_release(page, title=item.title, date=item.date)
    except (FetchError, Unreadable) as exc:
        entry = state.items.setdefault(item.link, ItemState(feed=feed.url))
        entry.error, entry.failures, entry.checked = str(exc), entry.failures + 1, now
        return Outcome("failed", item.link, entry.release, str(exc))
    release = replace(release, source=feed.title, tags=item.tags)
    digest = content_hash(release)
    owner = state.releases.get(release.id)
    same_text = state.release_with_hash(digest)
    if owner and owner.item != item.link:
        duplicate_of, reason = release.id, f"same address as {release.id}"
    elif same_text and same_text != release.id:
        duplicate_of, reason = same_text, f"same text as {same_text}"
    else:
        duplicate_of = None
    entry = ItemState(feed=feed.url, checked=now)
    if duplicate_of:
        entry.duplicate_of = duplicate_of
        state.items[item.link] = entry
        return Outcome("duplicate", item.link, duplicate_of, reason)
    status = write_release(release, corpus)
    state.releases[release.id] = ReleaseState(url=release.url, hash=digest, item=item.link)
    entry.release, entry.hash = release.id, digest
    entry.etag, entry.last_modified = page.etag, page.last_modified
    state.items[item.link] = entry
    return Outcome({"added": "new"}.get(status, status), item.link, release.id)


def _has_file(corpus: Path, release_id: str) -> bool:
    return (corpus / file_name(release_id)).exists()
