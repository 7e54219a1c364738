"""Watched questions asked again on every new build, their changes sent to webhooks and shown
as an Atom feed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from qa.state import State, now

if TYPE_CHECKING:
    from qa.engine import Engine

# A webhook that does not answer 2xx is tried again after these pauses (seconds); each try
# waits at most WEBHOOK_TIMEOUT: one delivery takes at most about 4 x 5 + 7 s.
WEBHOOK_RETRIES = (1.0, 2.0, 4.0)
WEBHOOK_TIMEOUT = 5.0
SIGNATURE_HEADER = "X-QA-Signature"


@dataclass
class CheckSummary:
    """What asking the watches again found."""

    asked: int = 0
    changed: list[str] = field(default_factory=list)  # watch ids
    delivered: int = 0
    failed: list[str] = field(default_factory=list)  # "url: reason"


def check_watches(
    state: State,
    engine: Engine,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckSummary:
    """Ask every watch on the engine's build; record the answers that changed and send each
    change to its watch's webhook."""
    from qa.payloads import parse_filters, result_json

    summary = CheckSummary()
    build_id = engine.index.manifest.build_id
    for watch in state.watches():
        filters = parse_filters(watch["filters"])
        reply = result_json(engine.ask(watch["question"], filters=filters))
        summary.asked += 1
        entry = state.record(watch["id"], build_id, reply)
        if entry is None or entry["kind"] != "changed":
            continue
        summary.changed.append(watch["id"])
        hook = state.webhook(watch["id"])
        if hook is None:
            continue
        body = {
            "event": "watch.changed",
            "watch": {"id": watch["id"], "question": watch["question"]},
            "build_id": build_id,
            "at": entry["at"],
            "answer": reply,
            "previous": state.previous_answer(watch["id"], entry["id"]),
        }
        ok, attempts, status = deliver(hook[0], hook[1], body, sleep)
        state.log_delivery(entry["id"], hook[0], attempts, status)
        if ok:
            summary.delivered += 1
        else:
            summary.failed.append(f"{hook[0]}: {status}")
    return summary


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    url: str,
    secret: str,
    payload: dict[str, Any],
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, str]:
    """POST ``payload`` as signed JSON, trying again with back-off; return (delivered, tries,
    the last status or error)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "releases-qa watch",
        "X-QA-Event": str(payload.get("event", "")),
        SIGNATURE_HEADER: sign(secret, body),
    }
    status = ""
    for attempt, pause in enumerate((0.0, *WEBHOOK_RETRIES), 1):
        if pause:
            sleep(pause)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as resp:
                status = f"HTTP {resp.status}"
                if 200 <= resp.status < 300:
                    return True, attempt, status
        except urllib.error.HTTPError as exc:
            status = f"HTTP {exc.code}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                return False, attempt, status  # the receiver refuses it: trying again won't help
        except (OSError, ValueError) as exc:
            status = f"{type(exc).__name__}: {exc}"
    return False, len(WEBHOOK_RETRIES) + 1, status


ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(state: State, base_url: str) -> bytes:
    """The changes of every watch as an Atom feed: one entry per change, newest first, with the
    question, the new answer and links to the releases it cites."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    changes = state.changes()

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    add(feed, "id", f"{base_url}/watches.atom")
    add(feed, "title", "releases-qa: watched questions")
    add(feed, "updated", changes[0]["at"] if changes else now())
    add(feed, "link", rel="self", href=f"{base_url}/watches.atom")
    author = add(feed, "author")
    add(author, "name", "releases-qa")
    for change in changes:
        answer = change["answer"]
        entry = add(feed, "entry")
        add(entry, "id", f"urn:releases-qa:watch:{change['watch_id']}:{change['id']}")
        add(entry, "title", f"New answer: {change['question']}")
        add(entry, "updated", change["at"])
        add(entry, "link", rel="alternate", href=f"{base_url}/api/watches/{change['watch_id']}")
        for source in answer.get("sources", []):
            if source.get("url"):
                add(entry, "link", rel="related", href=source["url"], title=source["title"])
        cited = "\n".join(
            f"[{s['n']}] {s['title']} ({s.get('date') or 'undated'})"
            + (f" {s['url']}" if s.get("url") else "")
            for s in answer.get("sources", [])
        )
        text = answer["answer"] + (f"\n\nSources:\n{cited}" if cited else "")
        add(entry, "summary", f"Build {change['build_id']}")
        add(entry, "content", text, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
