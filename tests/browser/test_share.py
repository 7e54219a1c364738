"""Share, Copy as Markdown and Watch under an answer, the Watched panel, the chats kept in the
browser, and the kept-answer page /a/<id> (issue #24), in Debian's Chromium.

Every test drives a real `qa serve` (the real model, gunicorn) started by this module over a
corpus of its own: the INTERPOL release and tests/data/hostile/ (a Baltic fisheries release
with hostile markup and URLs). Sharing and watching write server state (QA_STATE_DIR), and
the first test deletes a release and rebuilds the index, so none of this touches the
session's shared `live_server`. That test has a server to itself; the others share one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browsers import WAIT_MS
from conftest import HOSTILE_DIR, REPO, SEED_FILE, SEED_ID, _free_port, serving
from playwright.sync_api import Browser, Page, Request, expect

pytestmark = [pytest.mark.browser, pytest.mark.model]

START_S = 240  # the server loads the model and builds its index before it answers
QUESTION = "Which measures target terrorism?"
FOLLOW_UP = "Which of them concerns biometrics?"
MACKEREL = "What does the agreement say about the mackerel quota?"
SEED_TITLE = "INTERPOL Asian Conference calls for greater cross-sector cooperation"
HOSTILE_FILE = HOSTILE_DIR / "hostile-release.md"
MISSING = "This answer does not exist (or was removed)"


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]

    @property
    def corpus(self) -> Path:
        return self.home / "corpus"

    def get(self, path: str) -> tuple[int, str, str]:
        """GET ``path``: status, Content-Type and body (errors included)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as resp:
                return resp.status, resp.headers["Content-Type"], resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers["Content-Type"], err.read().decode()

    def json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def build_id(self) -> str:
        return str(self.json("/api/health")["index"]["build_id"])


def serve(home: Path) -> Iterator[Server]:
    """`qa serve` over a writable copy of the INTERPOL and hostile releases, with its own
    index and state folders under ``home``."""
    corpus = home / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_FILE, corpus)
    shutil.copy(HOSTILE_FILE, corpus)
    port = _free_port()
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(home / "index"),
        "QA_CORPUS": str(corpus),
        "QA_STATE_DIR": str(home / "state"),
        "QA_PORT": str(port),
    }
    for name in ("QA_API_TOKENS", "QA_PUBLIC", "QA_WEBHOOK_URL"):
        env.pop(name, None)
    with serving(home, env, START_S) as url:
        yield Server(url, home, env)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server the tests that change no release share."""
    yield from serve(tmp_path_factory.mktemp("share"))


@pytest.fixture
def rebuild_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own for the test that deletes a release and rebuilds the index."""
    yield from serve(tmp_path_factory.mktemp("share-rebuild"))


# --------------------------------------------------------------------------- pages


class PageProblems:
    """JavaScript exceptions, CSP violations and console errors seen by a page. (Chromium logs
    each HTTP error status as "Failed to load resource"; the 404s of unknown answers are
    expected, and those are the only ones the tests cause.)"""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.items.append(f"page error: {exc}"))
        page.on("console", self._console)
        return page

    def _console(self, msg: Any) -> None:
        text = msg.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.items.append(f"CSP: {text}")
        elif msg.type == "error" and not text.startswith(
            "Failed to load resource: the server responded with a status of 404"
        ):
            self.items.append(f"console error: {text}")


class Browsing:
    """Browser contexts opened by one test; their pages are checked for problems."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.problems = PageProblems()
        self.contexts: list[Any] = []

    def page(
        self,
        *,
        width: int = 1280,
        height: int = 800,
        color_scheme: str = "light",
        clipboard: bool = False,
        init_script: str | None = None,
    ) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
            reduced_motion="reduce",
        )
        if clipboard:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.base_url)
        if init_script:
            context.add_init_script(init_script)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        return self.problems.watch(page)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(chromium: Browser, server: Server) -> Iterator[Browsing]:
    b = Browsing(chromium, server.url)
    try:
        yield b
    finally:
        b.close()
    assert not b.problems.items, b.problems.items


def ask(page: Page, question: str) -> None:
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")


def last_answer(page: Page, count: int) -> Any:
    """The reply of the ``count``-th turn, once it is there."""
    replies = page.locator(".turn article.answer")
    expect(replies).to_have_count(count, timeout=WAIT_MS)
    return replies.nth(count - 1)


def answer_id_of(permalink_url: str, server: Server) -> str:
    m = re.fullmatch(re.escape(server.url) + r"/a/([A-Za-z0-9_-]+)", permalink_url)
    assert m, permalink_url
    return m.group(1)


def requests_to(page: Page, method: str, pattern: str) -> list[Request]:
    """Collect the page's requests of ``method`` whose URL matches ``pattern``."""
    seen: list[Request] = []
    page.on(
        "request",
        lambda r: seen.append(r) if r.method == method and re.search(pattern, r.url) else None,
    )
    return seen


# --------------------------------------------------------------------------- a kept answer


def test_a_shared_answer_outlives_its_release_and_the_watch_sees_the_change(
    chromium: Browser, rebuild_server: Server
) -> None:
    server = rebuild_server
    browsing = Browsing(chromium, server.url)
    try:
        page = browsing.page()
        page.goto("/")
        ask(page, QUESTION)
        answer = last_answer(page, 1)
        expect(answer.locator(".sources")).to_contain_text(SEED_TITLE)
        answer_text = answer.locator(".answer-body").inner_text()
        answer.locator("button.cite").first.click()
        passage = page.locator("#source-passage").inner_text()
        assert "biometrics" in passage
        page.keyboard.press("Escape")
        old_build = server.build_id()

        # Share: the question is kept as it was asked (no history, no filters).
        posts = requests_to(page, "POST", r"/api/answers$")
        with page.expect_response(re.compile(r"/api/answers$")) as kept_info:
            answer.get_by_role("button", name="Share").click()
        assert kept_info.value.status == 201
        assert kept_info.value.request.post_data_json == {"question": QUESTION, "history": []}
        link = answer.get_by_label("Link to this answer")
        expect(link).to_be_focused()
        permalink = link.input_value()
        answer_id = answer_id_of(permalink, server)
        # Sharing again reuses the kept answer.
        answer.get_by_role("button", name="Share").click()
        expect(link).to_have_value(permalink)
        assert len(posts) == 1

        # Watch it too: after the rebuild, its answer will have changed.
        answer.get_by_role("button", name="Watch").click()
        expect(answer.locator("button.watch")).to_have_text("Watching")

        # The cited release leaves the corpus; the index is rebuilt (and the watch asked again).
        (server.corpus / SEED_FILE.name).unlink()
        out = subprocess.run(
            [sys.executable, "-m", "qa", "rebuild-index"],
            cwd=REPO,
            env=server.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        deadline = time.monotonic() + 60
        while server.build_id() == old_build:
            assert time.monotonic() < deadline, "the server did not switch to the new build"
            time.sleep(0.5)
        new_build = server.build_id()
        now = server.json("/api/query", {"question": QUESTION})
        assert all(s["release_id"] != SEED_ID for s in now["sources"])
        assert server.get(f"/api/releases/{SEED_ID}")[0] == 404

        # The kept answer is still the same answer, with the same sources.
        status, content_type, _ = server.get(f"/a/{answer_id}")
        assert status == 200 and content_type.startswith("text/html")
        kept = browsing.page()
        kept.goto(permalink)
        expect(kept.locator("#kept-question")).to_have_text(QUESTION)
        body = kept.locator(".kept-body .answer-body")
        expect(body).to_be_visible()
        assert body.inner_text() == answer_text
        expect(kept.locator(".kept-body button.cite").first).to_be_visible()
        sources = kept.locator(".kept-source")
        expect(sources).to_have_count(1)
        expect(sources.locator(".kept-source-title")).to_have_text(f"[1] {SEED_TITLE}")
        expect(sources.locator(".source-meta time")).to_have_text("2023-02-09")
        assert sources.locator("blockquote.passage").inner_text() == passage
        expect(sources.locator("blockquote.passage mark").first).to_contain_text("terrorism")
        expect(kept.locator(".kept-meta")).to_contain_text(f"from index build {old_build}")
        expect(kept.locator(".kept-meta time")).to_have_attribute(
            "datetime", re.compile(r"^\d{4}-")
        )
        assert new_build not in kept.locator(".kept-meta").inner_text()
        # A citation goes to its source.
        kept.locator(".kept-body button.cite").first.click()
        expect(kept.locator("#source-1")).to_be_focused()
        ask_own = kept.get_by_role("link", name="Ask your own question")
        expect(ask_own.first).to_have_attribute("href", "/")

        # The watch: the changed answer is one new change, in the badge and in the panel.
        page.reload()
        watched = page.locator("#watched-open")
        expect(watched).to_have_accessible_name("Watched, 1 new change")
        expect(page.locator("#watched-badge")).to_have_text("1")
        watched.click()
        item = page.locator("#watched-dialog .watch-item")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("1 new")
        with page.expect_request(re.compile(r"/api/watches/[^/]+/seen$")):
            item.locator("button.watch-open").click()
        entries = page.locator("#watched-dialog .watch-entry")
        expect(entries).to_have_count(2)
        expect(entries.nth(0)).to_contain_text("Changed")
        expect(entries.nth(0)).to_contain_text(new_build)
        expect(entries.nth(0).locator(".badge")).to_have_text("New")
        expect(entries.nth(0)).not_to_contain_text(SEED_TITLE)
        expect(entries.nth(1)).to_contain_text("First answer")
        expect(entries.nth(1)).to_contain_text(old_build)
        expect(entries.nth(1).locator(".watch-sources")).to_contain_text(SEED_TITLE)
        expect(page.locator("#watched-badge")).to_be_hidden()
        expect(watched).to_have_accessible_name("Watched")
    finally:
        browsing.close()
    assert not browsing.problems.items, browsing.problems.items


def test_an_unknown_kept_answer_says_so(browsing: Browsing, server: Server) -> None:
    status, content_type, _ = server.get("/a/no-such-answer")
    assert status == 404 and content_type.startswith("text/html")
    page = browsing.page()
    page.goto("/a/no-such-answer")
    expect(page.get_by_role("heading", level=1)).to_have_text(MISSING)
    expect(page.get_by_role("link", name="Ask your own question").first).to_have_attribute(
        "href", "/"
    )
    expect(page.locator(".kept-source")).to_have_count(0)


def test_a_kept_abstention_shows_its_message_and_suggestions(
    browsing: Browsing, server: Server
) -> None:
    kept = server.json(
        "/api/answers",
        {"question": "What was said about cybercrime in February 2023?", "history": []},
    )
    assert kept["answer"]["abstained"] is True
    page = browsing.page()
    page.goto(kept["permalink"])
    answer = page.locator(".kept-body")
    expect(answer.locator(".abstain-title")).to_have_text("No answer in the releases")
    expect(answer.locator(".abstain-message")).to_have_text(kept["answer"]["message"])
    related = answer.get_by_role("region", name="Releases that may be related")
    expect(related).to_contain_text(SEED_TITLE)
    expect(related).to_contain_text("<script>alert('title')</script>")
    assert related.locator("a[href^='javascript' i], img").count() == 0
    expect(page.locator(".kept-source, .timeline")).to_have_count(0)
    expect(page.locator(".kept-meta")).to_contain_text(f"from index build {server.build_id()}")


# --------------------------------------------------------------------------- Markdown


def test_copy_as_markdown_copies_the_servers_markdown(browsing: Browsing, server: Server) -> None:
    page = browsing.page(clipboard=True)
    page.goto("/")
    ask(page, QUESTION)
    last_answer(page, 1)
    with page.expect_request("**/api/query") as query_info:
        ask(page, FOLLOW_UP)
    sent = query_info.value.post_data_json
    assert [m["role"] for m in sent["history"]] == ["user", "assistant"]
    answer = last_answer(page, 2)

    # Kept with the question and history the follow-up was asked with.
    with page.expect_response(re.compile(r"/api/answers$")) as kept_info:
        answer.get_by_role("button", name="Copy as Markdown").click()
    kept_request = kept_info.value.request.post_data_json
    assert kept_request == {"question": sent["question"], "history": sent["history"]}
    kept = kept_info.value.json()
    expect(answer.locator("button.copy-markdown")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    status, content_type, markdown = server.get(f"/api/answers/{kept['answer_id']}.md")
    assert status == 200 and content_type.startswith("text/markdown")
    assert copied == markdown == kept["markdown"]
    assert copied.startswith(f"**Q:** {FOLLOW_UP}")
    assert SEED_TITLE in copied

    # Share reuses that kept answer: no second POST.
    posts = requests_to(page, "POST", r"/api/answers$")
    answer.get_by_role("button", name="Share").click()
    link = answer.get_by_label("Link to this answer")
    expect(link).to_have_value(f"{server.url}/a/{kept['answer_id']}")
    assert posts == []

    # After a reload the kept answer is still reused, and the Markdown is the same.
    page.reload()
    answer = last_answer(page, 2)
    page.evaluate("navigator.clipboard.writeText('')")
    answer.get_by_role("button", name="Copy as Markdown").click()
    expect(answer.locator("button.copy-markdown")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == markdown
    assert posts == []

    # The kept-answer page copies the same Markdown; it shows the conversation it followed.
    page.goto(f"/a/{kept['answer_id']}")
    expect(page.locator("#kept-question")).to_have_text(FOLLOW_UP)
    expect(page.locator(".kept-history summary")).to_have_text(
        "It followed an earlier question in a conversation"
    )
    page.evaluate("navigator.clipboard.writeText('')")
    page.get_by_role("button", name="Copy as Markdown").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == markdown


def test_without_a_clipboard_the_markdown_shows_to_copy_by_hand(
    browsing: Browsing, server: Server
) -> None:
    page = browsing.page(
        init_script="Object.defineProperty(navigator, 'clipboard', {value: undefined});"
    )
    page.goto("/")
    ask(page, QUESTION)
    answer = last_answer(page, 1)
    with page.expect_response(re.compile(r"/api/answers$")) as kept_info:
        answer.get_by_role("button", name="Copy as Markdown").click()
    answer_id = kept_info.value.json()["answer_id"]
    area = answer.get_by_label(re.compile(r"^The answer as Markdown"))
    expect(area).to_be_visible()
    expect(area).to_be_focused()
    _, _, markdown = server.get(f"/api/answers/{answer_id}.md")
    assert area.input_value() == markdown
    selected = page.evaluate(
        "(el => el.value.slice(el.selectionStart, el.selectionEnd))(document.activeElement)"
    )
    assert selected == markdown

    page.goto(f"/a/{answer_id}")
    page.get_by_role("button", name="Copy as Markdown").click()
    area = page.get_by_label(re.compile(r"^The answer as Markdown"))
    expect(area).to_be_focused()
    assert area.input_value() == markdown


# --------------------------------------------------------------------------- chats


def test_a_reopened_chat_answers_a_follow_up_with_its_own_history(
    browsing: Browsing, server: Server
) -> None:
    page = browsing.page()
    page.goto("/")
    ask(page, QUESTION)
    first = last_answer(page, 1).locator(".answer-body").inner_text()
    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#empty-state")).to_be_visible()
    ask(page, MACKEREL)
    expect(last_answer(page, 1)).to_contain_text("mackerel quota")

    chats_button = page.get_by_role("button", name="Chats")
    chats_button.click()
    dialog = page.get_by_role("dialog", name="Chats")
    expect(dialog).to_be_visible()
    items = dialog.locator(".chat-item")
    expect(items).to_have_count(2)
    # Newest first; the title is the first question; the open one is marked.
    expect(items.nth(0).locator(".chat-title")).to_have_text(MACKEREL)
    expect(items.nth(0).locator(".chat-open")).to_have_attribute("aria-current", "true")
    expect(items.nth(0).locator(".chat-open")).to_be_focused()
    expect(items.nth(0).locator(".chat-meta")).to_contain_text("1 question · open now")
    expect(items.nth(0).locator(".chat-meta time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d{2}-\d{2}T")
    )
    expect(items.nth(1).locator(".chat-title")).to_have_text(QUESTION)
    # Escape closes the list, focus back on its button.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(chats_button).to_be_focused()

    # Reopen the first chat (keyboard): its turn is back, and a follow-up carries its history.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")  # to the open chat's Delete
    page.keyboard.press("Tab")  # to the other chat
    expect(items.nth(1).locator(".chat-open")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator(".question-text")).to_have_text([QUESTION])
    assert last_answer(page, 1).locator(".answer-body").inner_text() == first
    expect(page.locator("#question")).to_be_focused()
    with page.expect_request("**/api/query") as query_info:
        ask(page, FOLLOW_UP)
    history = query_info.value.post_data_json["history"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == QUESTION
    assert "mackerel" not in json.dumps(history).lower()
    expect(last_answer(page, 2)).to_contain_text("biometrics")

    # It stays the open chat after a reload; the other one is still listed.
    page.reload()
    expect(page.locator(".question-text")).to_have_text([QUESTION, FOLLOW_UP])
    chats_button.click()
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".chat-title")).to_have_text(QUESTION)
    expect(items.nth(0).locator(".chat-meta")).to_contain_text("2 questions · open now")

    # Delete asks first; Cancel keeps the chat.
    other = items.nth(1)
    other.get_by_role("button", name=f"Delete the chat \u201c{MACKEREL}\u201d").click()
    confirm = other.get_by_role("group", name="Confirm deletion")
    expect(confirm).to_contain_text("Delete this chat?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    expect(items).to_have_count(2)
    other.get_by_role("button", name=re.compile("^Delete the chat")).click()
    confirm.get_by_role("button", name="Delete").click()
    expect(items).to_have_count(1)
    expect(items.nth(0).locator(".chat-title")).to_have_text(QUESTION)
    expect(page.locator("#announcer")).to_have_text("Chat deleted.")

    # Deleting the open chat leaves an empty thread.
    items.nth(0).get_by_role("button", name=re.compile("^Delete the chat")).click()
    items.nth(0).get_by_role("group", name="Confirm deletion").get_by_role(
        "button", name="Delete"
    ).click()
    expect(dialog.locator(".sheet-empty")).to_contain_text("No chats yet")
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#empty-state")).to_be_visible()
    page.reload()
    expect(page.locator("#empty-state")).to_be_visible()


SEED_CHATS = """
(count) => {
  localStorage.clear();
  for (let i = 0; i < count; i++) {
    const id = 'seed' + i;
    const at = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString();
    localStorage.setItem('releases-qa:chat:v1:' + id, JSON.stringify({
      version: 1, id, title: 'Chat ' + i, created_at: at, updated_at: at,
      turns: [{id: 't' + i, question: 'Chat ' + i, filters: {}, status: 'done',
               response: {answer: 'Answer ' + i, sentences: [], sources: []}}],
    }));
  }
  localStorage.setItem('releases-qa:chat:v1:broken', '{not json');
  localStorage.setItem('releases-qa:chat:v1:noturns', '{"turns": 5}');
  localStorage.setItem('releases-qa:current-chat:v1', 'broken');
  localStorage.setItem('releases-qa:conversation:v1', '[[[');
}
"""


def test_at_most_50_chats_are_kept_and_bad_storage_is_dropped(browsing: Browsing) -> None:
    page = browsing.page()
    page.goto("/")
    page.evaluate(SEED_CHATS, 55)
    page.reload()
    # The open chat's entry is unreadable: an empty thread instead, and no error.
    expect(page.locator("#empty-state")).to_be_visible()
    page.get_by_role("button", name="Chats").click()
    titles = page.locator("#chat-list .chat-title")
    expect(titles).to_have_count(50)
    assert titles.first.inner_text() == "Chat 54"  # the most recently used first
    assert titles.last.inner_text() == "Chat 5"  # the 5 oldest were dropped
    keys = page.evaluate("Object.keys(localStorage)")
    assert not any(k.endswith(("broken", "noturns", "seed0", "seed4")) for k in keys), keys
    assert "releases-qa:conversation:v1" not in keys

    # Reopening a seeded chat shows its turn.
    page.locator("#chat-list .chat-open", has_text="Chat 30").click()
    expect(page.locator(".question-text")).to_have_text(["Chat 30"])
    expect(page.locator(".answer-body")).to_have_text("Answer 30")

    # An older version's single thread becomes a chat.
    legacy = {
        "version": 1,
        "turns": [
            {
                "id": "old1",
                "question": "An old question",
                "filters": {},
                "status": "done",
                "response": {"answer": "An old answer", "sentences": [], "sources": []},
            }
        ],
    }
    page.evaluate(
        "v => { localStorage.clear();"
        " localStorage.setItem('releases-qa:conversation:v1', JSON.stringify(v)); }",
        legacy,
    )
    page.reload()
    expect(page.locator(".question-text")).to_have_text(["An old question"])
    page.get_by_role("button", name="Chats").click()
    expect(page.locator("#chat-list .chat-title")).to_have_text(["An old question"])


def test_the_page_works_without_storage(browsing: Browsing) -> None:
    page = browsing.page(
        init_script=(
            "Object.defineProperty(window, 'localStorage', "
            "{get() { throw new DOMException('denied', 'SecurityError'); }});"
        )
    )
    page.goto("/")
    ask(page, QUESTION)
    expect(last_answer(page, 1).locator(".sources")).to_contain_text(SEED_TITLE)
    page.get_by_role("button", name="Chats").click()
    expect(page.locator("#chat-list")).to_contain_text("No chats yet")


# --------------------------------------------------------------------------- watch


def test_watch_shows_in_the_watched_panel_and_stop_watching_removes_it(
    browsing: Browsing, server: Server
) -> None:
    page = browsing.page()
    page.clock.install()
    page.goto("/")
    ask(page, QUESTION)
    answer = last_answer(page, 1)
    watch = answer.get_by_role("button", name="Watch")
    with page.expect_response(re.compile(r"/api/watches$")) as created:
        watch.click()
    assert created.value.status == 201
    assert created.value.request.post_data_json == {"question": QUESTION}
    watch_id = created.value.json()["watch"]["id"]
    expect(answer.locator("button.watch")).to_have_text("Watching")
    expect(answer.locator("button.watch")).to_be_disabled()
    expect(answer.locator("button.watch")).to_be_focused()

    watched = page.get_by_role("button", name=re.compile(r"^Watched"))
    watched.click()
    dialog = page.get_by_role("dialog", name="Watched questions")
    item = dialog.locator(".watch-item")
    expect(item).to_have_count(1)
    expect(item.locator(".watch-question")).to_have_text(QUESTION)
    snippet = item.locator(".watch-last").inner_text()
    assert snippet.startswith("Measures to better address") and len(snippet) <= 120
    with page.expect_request(re.compile(rf"/api/watches/{watch_id}/seen$")) as seen:
        item.locator("button.watch-open").click()
    assert seen.value.method == "POST"
    expect(dialog.locator(".watch-title")).to_have_text(QUESTION)
    entries = dialog.locator(".watch-entry")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("First answer")
    expect(entries.first).to_contain_text(server.build_id())
    expect(entries.first.locator(".watch-answer")).to_contain_text("biometrics")
    expect(entries.first.locator(".watch-sources")).to_contain_text(SEED_TITLE)

    with page.expect_response(re.compile(rf"/api/watches/{watch_id}$")) as deleted:
        dialog.get_by_role("button", name="Stop watching").click()
    assert deleted.value.request.method == "DELETE" and deleted.value.status == 204
    expect(dialog.locator(".sheet-empty")).to_contain_text("You are not watching any question")
    assert watch_id not in [w["id"] for w in server.json("/api/watches")["watches"]]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(watched).to_be_focused()
    expect(answer.locator("button.watch")).to_have_text("Watch")
    expect(answer.locator("button.watch")).to_be_enabled()

    # The list is read again every minute: a watch added elsewhere shows on the answer.
    added = server.json("/api/watches", {"question": QUESTION})["watch"]["id"]
    try:
        with page.expect_request(re.compile(r"/api/watches$")):
            page.clock.run_for(61_000)
        expect(answer.locator("button.watch")).to_have_text("Watching")
    finally:
        urllib.request.urlopen(
            urllib.request.Request(f"{server.url}/api/watches/{added}", method="DELETE")
        )


# --------------------------------------------------------------------------- usable


def test_the_new_parts_are_usable_at_360_px_in_the_dark_theme_and_hostile_data_is_text(
    browsing: Browsing, server: Server
) -> None:
    page = browsing.page(width=360, height=740, color_scheme="dark")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/")
    header = page.locator(".app-header")
    for name in ("Chats", "New chat"):
        box = header.get_by_role("button", name=name).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, (name, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    ask(page, MACKEREL)
    answer = last_answer(page, 1)
    expect(answer.locator(".sources")).to_contain_text("<script>alert('title')</script>")
    # Keyboard: Shift+Tab from the question box reaches Watch, then Share.
    expect(page.locator("#question")).to_be_focused()
    for name in ("Watch", "Share"):
        for _ in range(10):
            page.keyboard.press("Shift+Tab")
            if page.evaluate("document.activeElement.textContent") == name:
                break
        else:
            raise AssertionError(f"Shift+Tab never reached {name}")
    page.keyboard.press("Enter")
    link = answer.get_by_label("Link to this answer")
    expect(link).to_be_focused()
    permalink = link.input_value()
    for locator in (answer, answer.locator(".share-box"), answer.locator(".actions")):
        box = locator.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The dialogs cover the screen on a phone, in the dark theme; the watched answer's
    # hostile source title is text there too.
    answer.get_by_role("button", name="Watch").click()
    expect(answer.locator("button.watch")).to_have_text("Watching")
    page.get_by_role("button", name=re.compile("^Watched")).click()
    sheet = page.get_by_role("dialog", name="Watched questions")
    expect(sheet).to_be_visible()
    box = sheet.bounding_box()
    assert box and box["x"] == 0 and box["width"] == 360, box
    sheet.locator(".watch-open", has_text=MACKEREL).click()
    expect(sheet.locator(".watch-sources")).to_contain_text("<img src=x onerror=alert(1)>")
    assert sheet.locator("img").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert (
        page.evaluate("getComputedStyle(document.getElementById('watched-dialog')).backgroundColor")
        == "rgb(26, 30, 36)"
    )
    sheet.get_by_role("button", name="Stop watching").click()
    expect(sheet.locator(".watch-open", has_text=MACKEREL)).to_have_count(0)
    sheet.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Chats").click()
    expect(page.get_by_role("dialog", name="Chats").locator(".chat-item")).to_have_count(1)
    page.keyboard.press("Escape")

    # The kept answer of the hostile release: its markup and URL are text.
    page.goto(permalink)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 20, 24)"
    source = page.locator(".kept-source")
    expect(source).to_have_count(1)
    expect(source.locator(".kept-source-title")).to_contain_text(
        "<script>alert('title')</script> <img src=x onerror=alert(1)>"
    )
    expect(source.locator(".source-link-row")).to_contain_text("not a web address")
    expect(source.locator("blockquote.passage")).to_contain_text("mackerel quota")
    assert page.locator("img, script:not([src]), [onerror]").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for locator in (page.locator(".kept-answer"), page.get_by_role("button", name="Copy link")):
        box = locator.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    page.wait_for_timeout(300)  # an onerror would have fired by now
    assert dialogs == []
