"""Browser tests of the chat page: Debian's Chromium driven by Playwright.

The page is always loaded from the real server (`live_server_url`, a session
fixture in tests/conftest.py), so its static files are served with the real
Content-Security-Policy. The first tests ask the real question–answering
engine; the later ones replace /api/query with canned replies (page.route) to
exercise the error, time-out, abstention and hostile-data paths quickly and
deterministically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

# Every test drives Chromium, and the live server behind them loads the real model.
pytestmark = [pytest.mark.browser, pytest.mark.model]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000
QUESTION = "Which measures target terrorism?"
SEED_TITLE = "INTERPOL Asian Conference calls for greater cross-sector cooperation"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """JavaScript exceptions and CSP violations seen by a page."""

    def __init__(self, page: Page) -> None:
        self.items: list[str] = []
        page.on("pageerror", lambda exc: self.items.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        text = msg.text
        if msg.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.items.append(f"CSP: {text}")


def new_page(
    browser: Browser,
    base_url: str,
    *,
    width: int = 1280,
    height: int = 800,
    color_scheme: str = "light",
    init_script: str | None = None,
) -> tuple[Page, PageProblems]:
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": width, "height": height},
        color_scheme=color_scheme,
        reduced_motion="reduce",
    )
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page, PageProblems(page)


@pytest.fixture
def chat(chromium: Browser, live_server_url: str) -> Iterator[tuple[Page, PageProblems]]:
    page, problems = new_page(chromium, live_server_url)
    page.goto("/")
    try:
        yield page, problems
    finally:
        page.context.close()
    assert not problems.items, problems.items


def ask(page: Page, question: str) -> None:
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")


def fulfil_json(route: Route, body: dict[str, Any], status: int = 200) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


# --------------------------------------------------------------------------- real engine


def test_answer_lists_measures_and_opens_the_cited_passage(chat: tuple[Page, PageProblems]) -> None:
    page, _ = chat
    expect(page.locator("#index-status")).to_contain_text(re.compile(r"\d+ releases?"))

    ask(page, QUESTION)
    answer = page.locator("article.answer").first
    expect(answer).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#question")).to_have_value("")

    items = answer.locator(".answer-body ul > li")
    expect(items).to_have_count(3, timeout=WAIT_MS)
    texts = [t.lower() for t in items.all_inner_texts()]
    for phrase in ("intelligence sharing", "biometrics", "screening operations"):
        assert sum(phrase in t for t in texts) == 1, (phrase, texts)

    cites = answer.locator("button.cite")
    assert cites.count() >= 3
    expect(cites.first).to_have_attribute("data-n", re.compile(r"^\d+$"))

    sources = answer.locator(".sources")
    expect(sources).to_contain_text(SEED_TITLE)
    expect(sources).to_contain_text("2023-02-09")

    cites.first.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#source-title")).to_have_text(SEED_TITLE)
    expect(panel.locator("mark").first).to_be_visible()
    # The README's screenshot is this moment of this test (build/screenshots/, not committed).
    shots = Path(__file__).resolve().parents[2] / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "answer.png"))

    # The whole release comes from /api/releases/<id>.
    panel.get_by_role("button", name="Show the whole release").click()
    expect(panel.locator("#release-full .release-text")).to_contain_text("INTERPOL")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_history_is_sent_and_the_thread_survives_a_reload(chat: tuple[Page, PageProblems]) -> None:
    page, _ = chat
    ask(page, QUESTION)
    expect(page.locator("article.answer")).to_have_count(1, timeout=WAIT_MS)
    first_answer = page.locator("article.answer .answer-body").inner_text()

    with page.expect_request("**/api/query") as request_info:
        ask(page, "Which of them concerns biometrics?")
    body = request_info.value.post_data_json
    assert body["question"] == "Which of them concerns biometrics?"
    history = body["history"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == QUESTION
    assert "biometrics" in history[1]["content"].lower()
    expect(page.locator("article.answer")).to_have_count(2, timeout=WAIT_MS)

    page.reload()
    expect(page.locator("article.answer")).to_have_count(2)
    expect(page.locator(".question-text").first).to_have_text(QUESTION)
    assert page.locator("article.answer .answer-body").first.inner_text() == first_answer

    page.get_by_role("button", name="New chat").click()
    expect(page.locator("article.answer")).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()
    page.reload()
    expect(page.locator("#empty-state")).to_be_visible()


def test_a_server_error_shows_plainly_and_retry_asks_again(chat: tuple[Page, PageProblems]) -> None:
    page, _ = chat
    page.route(
        "**/api/query",
        lambda route: fulfil_json(
            route, {"error": {"status": 503, "message": "No index is built: run `qa build`."}}, 503
        ),
    )
    ask(page, QUESTION)
    error = page.locator("article.error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("No index is built: run `qa build`.")
    expect(page.locator("article.answer")).to_have_count(0)

    page.unroute("**/api/query")
    error.locator("button.retry").click()
    expect(page.locator("article.answer")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("article.error")).to_have_count(0)
    expect(page.locator(".question-text")).to_have_count(1)


# --------------------------------------------------------------------------- canned replies


def canned_answer(question: str, filters: dict[str, str] | None = None) -> dict[str, Any]:
    passage = "Alpha <b>bold</b> claim. Second sentence here."
    return {
        "question": question,
        "answer": (
            "A <script>alert(1)</script> claim [1].\n• First point [1][2]\n• Second point [2]"
        ),
        "sentences": [
            {"text": "A <script>alert(1)</script> claim.", "citations": [1], "kind": "sentence"},
            {"text": "First point", "citations": [1, 2], "kind": "bullet"},
            {"text": "Second point", "citations": [2], "kind": "bullet"},
        ],
        "sources": [
            {
                "n": 1,
                "release_id": "r-1",
                "title": '<img src=x id="pwned"> Hostile title',
                "date": "2021-05-06",
                "url": "javascript:alert(1)",
                "source": "DOJ",
                "passage": passage,
                "highlights": [[0, 25], [20, 26]],
                "score": 0.9,
            },
            {
                "n": 2,
                "release_id": "r-2",
                "title": "Plain release",
                "date": None,
                "url": "https://example.org/release-2",
                "source": None,
                "passage": "Nothing highlighted.",
                "highlights": [],
                "score": 0.5,
            },
        ],
        "abstained": False,
        "message": None,
        "suggestions": [],
        "query": {"text": question, "filters": filters or {}},
        "timings_ms": {"total": 1.0},
    }


def test_hostile_data_is_shown_as_text_and_copy_includes_sources(
    chromium: Browser, live_server_url: str
) -> None:
    capture = (
        "window.__copied = null; Object.defineProperty(navigator, 'clipboard', {value: "
        "{writeText: function (t) { window.__copied = t; return Promise.resolve(); }}});"
    )
    page, problems = new_page(chromium, live_server_url, init_script=capture)
    try:
        page.route("**/api/query", lambda route: fulfil_json(route, canned_answer("q")))
        page.goto("/")
        box = page.locator("#question")
        box.type("line one")
        box.press("Shift+Enter")
        box.type("line two")
        expect(box).to_have_value("line one\nline two")
        expect(page.locator(".turn")).to_have_count(0)
        page.locator("#send").click()

        answer = page.locator("article.answer")
        expect(answer).to_be_visible()
        expect(answer.locator(".answer-body")).to_contain_text("A <script>alert(1)</script> claim.")
        expect(answer.locator(".answer-body ul > li")).to_have_count(2)
        expect(answer.locator("button.cite")).to_have_count(4)
        expect(answer.locator(".sources")).to_contain_text('<img src=x id="pwned"> Hostile title')
        assert page.locator("#pwned").count() == 0
        assert page.locator("script:not([src])").count() == 0
        links = answer.locator(".sources a")
        expect(links).to_have_count(1)  # the javascript: URL is not a link
        expect(links.first).to_have_attribute("href", "https://example.org/release-2")

        answer.locator('button.cite[data-n="1"]').first.click()
        panel = page.locator("#source-panel")
        expect(panel).to_be_visible()
        marks = panel.locator("#source-passage mark")
        expect(marks).to_have_count(1)  # overlapping ranges are merged
        expect(marks.first).to_have_text("Alpha <b>bold</b> claim. S")
        assert panel.locator("#source-link-row a").count() == 0
        assert page.locator("#pwned").count() == 0

        answer.get_by_role("button", name="Copy answer").click()
        expect(answer.get_by_role("button", name="Copied")).to_be_visible()
        copied = page.evaluate("window.__copied")
        assert copied.startswith("A <script>alert(1)</script> claim [1].")
        assert "Sources:" in copied
        assert "[2] Plain release, https://example.org/release-2" in copied
    finally:
        page.context.close()
    assert not problems.items, problems.items


def test_abstention_filters_and_the_servers_reading_of_them(
    chromium: Browser, live_server_url: str
) -> None:
    page, problems = new_page(chromium, live_server_url, width=360, height=740, color_scheme="dark")
    sent: list[dict[str, Any]] = []

    def abstain(route: Route) -> None:
        body = route.request.post_data_json
        sent.append(body)
        fulfil_json(
            route,
            {
                "question": body["question"],
                "answer": "",
                "sentences": [],
                "sources": [],
                "abstained": True,
                "message": "The releases do not say.",
                "suggestions": [
                    {
                        "release_id": "r-9",
                        "title": "Maybe this one",
                        "date": "2020-01-02",
                        "url": "https://example.org/9",
                    },
                    {
                        "release_id": "r-10",
                        "title": "Or that one",
                        "date": None,
                        "url": "data:text/html,x",
                    },
                ],
                "query": {
                    "text": "standalone question",
                    "filters": {"date_from": "2020-01-01", "date_to": "2020-12-31"},
                },
                "timings_ms": {},
            },
        )

    try:
        page.route("**/api/query", abstain)
        page.goto("/")
        page.get_by_role("button", name="Date filter").click()
        page.locator("#date-from").fill("2020-01-01")
        expect(page.locator(".chip")).to_have_count(1)
        ask(page, "What happened in 2020?")

        article = page.locator("article.answer.abstained")
        expect(article).to_be_visible()
        expect(article).to_contain_text("The releases do not say.")
        expect(article).to_contain_text("You may be looking for")
        expect(article.locator(".suggestion")).to_have_count(2)
        expect(article.locator("a")).to_have_count(1)  # the data: URL is not a link
        note = article.locator(".query-note")
        expect(note).to_contain_text("Dates searched: 2020-01-01 to 2020-12-31")
        expect(note).to_contain_text("standalone question")
        assert sent[0]["filters"] == {"date_from": "2020-01-01"}
        assert sent[0]["history"] == []

        # Removing the chip removes the filter from the next question.
        page.locator(".chip").click()
        expect(page.locator(".chip")).to_have_count(0)
        ask(page, "And now?")
        expect(page.locator("article.answer.abstained")).to_have_count(2)
        assert "filters" not in sent[1]
        assert [m["role"] for m in sent[1]["history"]] == ["user", "assistant"]

        # Usable at 360 px: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        page.context.close()
    assert not problems.items, problems.items


def test_a_time_out_and_a_network_failure_show_retry(
    chromium: Browser, live_server_url: str
) -> None:
    page, problems = new_page(
        chromium, live_server_url, init_script="window.RELEASES_QA_QUERY_TIMEOUT_MS = 800;"
    )
    held: list[Route] = []
    try:
        page.route("**/api/query", lambda route: held.append(route))  # never answered
        page.goto("/")
        ask(page, QUESTION)
        expect(page.locator("article.pending")).to_be_visible()
        # The box stays usable while waiting.
        page.locator("#question").fill("typing meanwhile")
        error = page.locator("article.error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("took more than")
        expect(error.locator("button.retry")).to_be_visible()
        expect(page.locator("#question")).to_have_value("typing meanwhile")

        page.unroute("**/api/query")
        page.route("**/api/query", lambda route: route.abort("connectionrefused"))
        error.locator("button.retry").click()
        expect(page.locator("article.error")).to_contain_text("Could not reach the server")
    finally:
        page.context.close()
    assert not problems.items, problems.items
