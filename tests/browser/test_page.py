"""Browser tests of the chat page: Debian's Chromium driven by Playwright.

The page is always loaded from the real server (`live_server_url`, a session
fixture in tests/conftest.py), so its static files are served with the real
Content-Security-Policy. The tests under "real engine" ask the real
question-answering engine over the repo's corpus (the INTERPOL release) plus
tests/data/hostile/ (a Baltic fisheries release with hostile markup and URLs);
the ones under "canned replies" replace an endpoint with page.route where the
real server cannot produce the situation (server errors, time-outs, hostile
data, several dated sources, a health reply that lists sources), each saying
why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browsers import WAIT_MS
from playwright.sync_api import Browser, Page, Route, expect

# Every test drives Chromium, and the live server behind them loads the real model.
pytestmark = [pytest.mark.browser, pytest.mark.model]

QUESTION = "Which measures target terrorism?"
SEED_TITLE = "INTERPOL Asian Conference calls for greater cross-sector cooperation"


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
    status = page.locator("#index-status")
    expect(status).to_contain_text(re.compile(r"\d+ releases?"))
    expect(status).to_contain_text("2023-02-09")  # the index's date range
    expect(status).to_contain_text("index built")

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
    # Only the INTERPOL release is cited, not the (indexed) Baltic fisheries one.
    expect(sources).not_to_contain_text("Baltic")

    cites.first.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#source-title")).to_have_text(SEED_TITLE)
    expect(panel.locator("#source-meta")).to_contain_text("2023-02-09")
    mark = panel.locator("#source-passage mark").first
    expect(mark).to_be_visible()
    expect(mark).to_contain_text("terrorism")
    # The README's screenshot is this moment of this test (build/screenshots/, not committed).
    shots = Path(__file__).resolve().parents[2] / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "answer.png"))

    # The whole release comes from /api/releases/<id>.
    with page.expect_response(re.compile(r"/api/releases/")) as release_response:
        panel.get_by_role("button", name="Show the whole release").click()
    assert release_response.value.ok
    expect(panel.locator("#release-full .release-text")).to_contain_text("ABU DHABI")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # The timeline: the one dated source is one point, and it opens that source.
    points = answer.locator(".timeline .timeline-point")
    expect(points).to_have_count(1)
    expect(points.first).to_have_text("1")
    expect(answer.locator(".timeline-scale")).to_have_text("2023-02-09")
    points.first.click()
    expect(panel).to_be_visible()
    expect(panel.locator("#source-kicker")).to_have_text("Source [1]")
    expect(panel.locator("#source-title")).to_have_text(SEED_TITLE)
    expect(points.first).to_have_attribute("aria-current", "true")


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
    expect(page.locator("article.answer").nth(1)).to_contain_text("biometrics")

    page.reload()
    expect(page.locator("article.answer")).to_have_count(2)
    expect(page.locator(".question-text").first).to_have_text(QUESTION)
    assert page.locator("article.answer .answer-body").first.inner_text() == first_answer
    # The answer's one source, and the follow-up's: the list again (biometrics is one of its
    # measures), one point on each answer's timeline.
    expect(page.locator("article.answer .timeline-point")).to_have_count(2)

    # After a reload the conversation is still the history of the next question.
    with page.expect_request("**/api/query") as request_info:
        ask(page, "And which concerns screening?")
    roles = [m["role"] for m in request_info.value.post_data_json["history"]]
    assert roles == ["user", "assistant"] * 2
    expect(page.locator("article.answer")).to_have_count(3, timeout=WAIT_MS)

    page.get_by_role("button", name="New chat").click()
    expect(page.locator("article.answer")).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()
    page.reload()
    expect(page.locator("#empty-state")).to_be_visible()
    with page.expect_request("**/api/query") as request_info:
        ask(page, QUESTION)
    assert request_info.value.post_data_json["history"] == []
    expect(page.locator("article.answer")).to_have_count(1, timeout=WAIT_MS)


def focus_by_tab(page: Page, selector: str, key: str = "Tab", limit: int = 30) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{key} never reached {selector}")


def test_keyboard_only_ask_open_a_citation_and_come_back(
    chat: tuple[Page, PageProblems],
) -> None:
    page, _ = chat
    box = page.locator("#question")
    expect(box).to_be_focused()  # the page starts in the question box
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator("article.answer")
    expect(answer).to_be_visible(timeout=WAIT_MS)
    expect(box).to_be_focused()  # still typing-ready after the answer

    # Shift+Tab from the box walks back into the answer: Copy, the timeline, sources, citations.
    focus_by_tab(page, "article.answer button.cite", key="Shift+Tab")
    page.evaluate("window.__opener = document.activeElement")
    n = page.evaluate("document.activeElement.dataset.n")
    page.keyboard.press("Enter")
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#source-title")).to_be_focused()
    expect(page.locator("#source-kicker")).to_have_text(f"Source [{n}]")
    expect(panel.locator("#source-passage mark").first).to_be_visible()

    focus_by_tab(page, "#release-toggle")
    page.keyboard.press("Enter")
    expect(panel.locator("#release-full .release-text")).to_contain_text("ABU DHABI")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("document.activeElement === window.__opener")

    # The timeline point is reachable and opens with Enter too.
    focus_by_tab(page, "article.answer .timeline-point")
    page.evaluate("window.__opener = document.activeElement")
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(page.locator("#source-title")).to_have_text(SEED_TITLE)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("document.activeElement === window.__opener")


def test_a_date_filter_that_excludes_2023_leaves_no_interpol_source(
    chat: tuple[Page, PageProblems],
) -> None:
    page, _ = chat
    expect(page.locator("#index-status")).to_contain_text("release")
    turns = page.locator(".turn")
    ask(page, QUESTION)
    expect(turns.nth(0).locator(".sources")).to_contain_text(SEED_TITLE, timeout=WAIT_MS)

    page.get_by_role("button", name="Filters").click()
    # The real /api/health lists no sources, so there is no source filter to show.
    expect(page.locator("#source-field")).to_be_hidden()
    page.locator("#date-to").fill("2020-12-31")
    chip = page.get_by_role("button", name="Remove filter: To 2020-12-31")
    expect(chip).to_be_visible()

    with page.expect_request("**/api/query") as request_info:
        ask(page, QUESTION)
    assert request_info.value.post_data_json["filters"] == {"date_to": "2020-12-31"}
    filtered = turns.nth(1)
    expect(filtered.locator(".question-filters")).to_have_text("Dates: up to 2020-12-31")
    expect(filtered.locator("article.abstained")).to_be_visible(timeout=WAIT_MS)
    expect(filtered).not_to_contain_text(SEED_TITLE)
    expect(filtered.locator(".sources, .timeline")).to_have_count(0)

    # Removing the chip removes the filter: the INTERPOL release is back.
    chip.click()
    expect(page.locator(".chip")).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()
    with page.expect_request("**/api/query") as request_info:
        ask(page, QUESTION)
    assert "filters" not in request_info.value.post_data_json
    expect(turns.nth(2).locator(".sources")).to_contain_text(SEED_TITLE, timeout=WAIT_MS)


def test_abstention_shows_suggestions_and_the_servers_reading_of_the_date(
    chat: tuple[Page, PageProblems],
) -> None:
    page, _ = chat
    ask(page, "What was said about cybercrime in February 2023?")
    article = page.locator("article.answer.abstained")
    expect(article).to_be_visible(timeout=WAIT_MS)
    expect(article.locator(".abstain-title")).to_have_text("No answer in the releases")
    expect(article).to_contain_text("The releases don't say.")
    expect(article.locator(".answer-body, button.cite")).to_have_count(0)
    # query.dates: how the server read "in February 2023".
    expect(article.locator(".query-note")).to_contain_text(
        "Read \u201cin February 2023\u201d as 2023-02-01 to 2023-02-28"
        " (releases of that period ranked first)"
    )
    suggestions = article.get_by_role("region", name="You may be looking for")
    expect(suggestions).to_contain_text(SEED_TITLE)
    expect(suggestions).to_contain_text("2023-02-09")

    # The suggestions (both indexed releases) are on the timeline too; a point opens the whole
    # release.
    points = article.locator(".timeline .timeline-point.suggested")
    expect(points).to_have_count(2)
    point = article.locator(f'.timeline-point.suggested[aria-label*="{SEED_TITLE}"]')
    expect(point).to_have_count(1)
    point.click()
    panel = page.locator("#source-panel")
    expect(panel.locator("#source-kicker")).to_have_text("Suggested release")
    expect(panel.locator("#source-title")).to_have_text(SEED_TITLE)
    expect(panel.locator("#release-full .release-text")).to_contain_text("ABU DHABI")


def test_usable_at_360_px_in_the_dark_theme(chromium: Browser, live_server_url: str) -> None:
    page, problems = new_page(chromium, live_server_url, width=360, height=740, color_scheme="dark")
    try:
        page.goto("/")
        # The dark theme follows the system setting.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 20, 24)"
        ask(page, QUESTION)
        answer = page.locator("article.answer")
        expect(answer.locator(".sources")).to_contain_text(SEED_TITLE, timeout=WAIT_MS)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for locator in (answer, answer.locator(".timeline-point"), page.locator("#send")):
            box = locator.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, box

        cite = answer.locator("button.cite").first
        cite.click()
        panel = page.locator("#source-panel")
        expect(panel).to_be_visible()
        # On a phone the source covers the screen and the chat behind it is inert.
        assert panel.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 740}
        assert page.evaluate("document.getElementById('main').inert")
        expect(panel.locator("#source-passage mark").first).to_be_visible()
        panel.get_by_role("button", name="Close the source panel").click()
        expect(panel).to_be_hidden()
        assert not page.evaluate("document.getElementById('main').inert")
        expect(cite).to_be_focused()
    finally:
        page.context.close()
    assert not problems.items, problems.items


def test_a_server_error_shows_plainly_and_retry_asks_again(chat: tuple[Page, PageProblems]) -> None:
    page, _ = chat
    # Canned: the live server has an index, so a 503 has to be made up.
    page.route(
        "**/api/query",
        lambda route: fulfil_json(
            route, {"error": {"status": 503, "message": "No index is built: run `qa build`."}}, 503
        ),
    )
    ask(page, QUESTION)
    error = page.locator("article.error")
    expect(error).to_be_visible()
    expect(error.locator(".error-title")).to_have_text("The server could not answer (error 503)")
    expect(error).to_contain_text("No index is built: run `qa build`.")
    expect(page.locator("article.answer")).to_have_count(0)
    expect(page.locator("#announcer")).to_contain_text("Error: No index is built")

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
    # Canned: the real corpus has no hostile release. First an answer, then an abstention.
    replies = [canned_answer("q"), canned_abstention("q2")]
    try:
        page.route("**/api/query", lambda route: fulfil_json(route, replies.pop(0)))
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

        # Hostile suggestions of an abstention: text, and only the http(s) URL is a link.
        page.keyboard.press("Escape")
        ask(page, "q2")
        abstained = page.locator("article.abstained")
        expect(abstained.locator(".suggestion")).to_have_count(3)
        expect(abstained.locator(".suggestions")).to_contain_text('<img src=x id="pwned2">')
        links = abstained.locator("a")
        expect(links).to_have_count(1)
        expect(links.first).to_have_attribute("href", "https://example.org/9")
        points = abstained.locator(".timeline-point.suggested")
        expect(points).to_have_count(3)  # all three are dated: 2018, 2019, 2020
        expect(points.nth(1)).to_have_attribute(
            "aria-label", re.compile(r'^Suggested release: <img src=x id="pwned2"> Or that one,')
        )
        assert page.locator("#pwned, #pwned2").count() == 0
    finally:
        page.context.close()
    assert not problems.items, problems.items


def canned_abstention(question: str) -> dict[str, Any]:
    suggestions = [
        ("r-9", "Maybe this one", "2020-01-02", "https://example.org/9"),
        ("r-10", '<img src=x id="pwned2"> Or that one', "2019-03-04", "data:text/html,x"),
        ("r-11", "A third", "2018-07-08", "javascript:alert(1)"),
    ]
    return {
        "question": question,
        "answer": "",
        "sentences": [],
        "sources": [],
        "abstained": True,
        "message": "The releases do not say.",
        "suggestions": [
            {"release_id": i, "title": t, "date": d, "url": u} for i, t, d, u in suggestions
        ],
        "query": {"text": question, "filters": {}, "dates": None},
        "timings_ms": {},
    }


def dated_source(n: int, title: str, date: str | None) -> dict[str, Any]:
    return {
        "n": n,
        "release_id": f"r-{n}",
        "title": title,
        "date": date,
        "url": f"https://example.org/{n}",
        "source": "DOJ",
        "passage": f"{title}. The cited sentence of source {n}.",
        "highlights": [[len(title) + 2, len(title) + 2 + 31]],
        "score": 0.5,
    }


def test_the_timeline_places_each_dated_source_and_opens_it(
    chromium: Browser, live_server_url: str
) -> None:
    # Canned: the repo's corpus has a single release, so the real server cannot answer with
    # several sources of different dates.
    sources = [
        dated_source(1, "Wildlife trafficker sentenced", "2016-05-20"),
        dated_source(2, "Company pleads guilty", "2009-02-11"),
        dated_source(3, "Same day as the first", "2016-05-20"),
        dated_source(4, "A release without a date", None),
        dated_source(5, "Hacker extradited", "2016-01-28"),
    ]
    reply = {
        **canned_answer("q"),
        "answer": "Five claims [1][2][3][4][5].",
        "sentences": [{"text": "Five claims.", "citations": [1, 2, 3, 4, 5], "kind": "sentence"}],
        "sources": sources,
    }
    page, problems = new_page(chromium, live_server_url)
    try:
        page.route("**/api/query", lambda route: fulfil_json(route, reply))
        page.goto("/")
        ask(page, "When?")
        timeline = page.locator("article.answer .timeline")
        expect(timeline).to_be_visible()
        points = timeline.locator(".timeline-track .timeline-point")
        expect(points).to_have_count(4)  # one per dated source, in date order
        assert points.all_inner_texts() == ["2", "5", "1", "3"]
        undated = timeline.locator(".timeline-undated .timeline-point")
        expect(undated).to_have_text(["4"])
        expect(timeline.locator(".timeline-scale span")).to_have_text(["2009-02-11", "2016-05-20"])
        expect(timeline.locator(".timeline-year")).to_contain_text(["2012"])
        expect(points.nth(0)).to_have_attribute(
            "aria-label", re.compile(r"^Source 2: Company pleads guilty, published ")
        )

        # Placed by date: x is proportional to the date; the same day stacks vertically.
        boxes = {p.inner_text(): p.bounding_box() for p in points.all()}
        x = {n: b["x"] + b["width"] / 2 for n, b in boxes.items()}
        assert x["2"] < x["5"] < x["1"]
        assert abs(x["1"] - x["3"]) < 1
        assert abs(boxes["1"]["y"] - boxes["3"]["y"]) >= boxes["1"]["height"]
        days = {"2": date(2009, 2, 11), "5": date(2016, 1, 28), "1": date(2016, 5, 20)}
        expected = (days["5"] - days["2"]) / (days["1"] - days["2"])
        assert abs((x["5"] - x["2"]) / (x["1"] - x["2"]) - expected) < 0.01

        # Clicking a point opens its source in the panel; Escape gives focus back to it.
        panel = page.locator("#source-panel")
        points.nth(0).click()
        expect(panel.locator("#source-kicker")).to_have_text("Source [2]")
        expect(panel.locator("#source-title")).to_have_text("Company pleads guilty")
        expect(panel.locator("#source-passage mark")).to_have_text(
            "The cited sentence of source 2."
        )
        expect(points.nth(0)).to_have_attribute("aria-current", "true")
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(points.nth(0)).to_be_focused()

        undated.click()
        expect(panel.locator("#source-title")).to_have_text("A release without a date")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    finally:
        page.context.close()
    assert not problems.items, problems.items


def test_the_source_filter_appears_when_the_index_lists_sources(
    chromium: Browser, live_server_url: str
) -> None:
    # Canned: the real /api/health does not list the index's sources (yet), so the source
    # filter only shows with a health reply that does; the query reply is canned to show how
    # the page reports filters the server changed.
    sent: list[dict[str, Any]] = []

    def health(route: Route) -> None:
        body = route.fetch().json()
        body["index"]["sources"] = ["DOJ", "INTERPOL"]
        fulfil_json(route, body)

    def query(route: Route) -> None:
        sent.append(route.request.post_data_json)
        reply = canned_answer("q", filters={"date_from": "2016-01-01", "source": "DOJ"})
        reply["query"]["dates"] = {
            "phrase": "since 2016",
            "date_from": "2016-01-01",
            "applied_as": "filter",
            "recent": False,
        }
        fulfil_json(route, reply)

    page, problems = new_page(chromium, live_server_url)
    try:
        page.route("**/api/health", health)
        page.route("**/api/query", query)
        page.goto("/")
        page.get_by_role("button", name="Filters").click()
        source = page.get_by_label("Source", exact=True)
        expect(source).to_be_visible()
        source.select_option("DOJ")
        expect(page.get_by_role("button", name="Remove filter: Source DOJ")).to_be_visible()
        ask(page, "What happened since 2016?")
        note = page.locator("article.answer .query-note")
        expect(note).to_contain_text(
            "Read \u201csince 2016\u201d as from 2016-01-01 (used as a date filter)"
        )
        expect(note).to_contain_text("Dates searched: from 2016-01-01, source DOJ")
        assert sent[0]["filters"] == {"source": "DOJ"}

        page.reload()  # the filter is kept
        expect(page.get_by_role("button", name="Remove filter: Source DOJ")).to_be_visible()
        page.get_by_role("button", name="Remove filter: Source DOJ").click()
        expect(page.locator(".chip")).to_have_count(0)
        ask(page, "And now?")
        expect(page.locator("article.answer")).to_have_count(2)
        assert "filters" not in sent[1]
    finally:
        page.context.close()
    assert not problems.items, problems.items


def test_a_time_out_and_a_network_failure_show_retry(
    chromium: Browser, live_server_url: str
) -> None:
    # Canned: a reply that never comes and a refused connection (the server down).
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


def event_stream(events: list[tuple[str, Any]]) -> str:
    """A text/event-stream body: one `event:`/`data:` block per (event, data) pair."""
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def test_a_streamed_answer_shows_its_text_then_the_rendered_answer(
    chromium: Browser, live_server_url: str
) -> None:
    # Canned: the real server has no generative model, so it streams one delta only.
    reply = canned_answer("q")
    deltas = ["A <script>alert(1)</script> ", "claim [1].\n", "• First point [1][2]\n", "• Sec"]
    deltas.append("ond point [2]")
    assert "".join(deltas) == reply["answer"]
    body = event_stream([("delta", {"text": d}) for d in deltas] + [("answer", reply)])
    sent: list[dict[str, Any]] = []

    def query(route: Route) -> None:
        sent.append(route.request.post_data_json)
        route.fulfill(status=200, content_type="text/event-stream", body=body)

    page, problems = new_page(chromium, live_server_url)
    try:
        page.route("**/api/query", query)
        page.goto("/")
        ask(page, "q")
        answer = page.locator("article.answer")
        expect(answer).to_be_visible()
        assert sent[0]["stream"] is True
        assert sent[0]["question"] == "q"
        # The rendered answer replaced the streamed plain text.
        expect(page.locator("article.pending, .stream-text")).to_have_count(0)
        expect(answer.locator(".answer-body")).to_contain_text("A <script>alert(1)</script> claim.")
        expect(answer.locator(".answer-body ul > li")).to_have_count(2)
        expect(answer.locator(".answer-body ul > li")).to_have_text(
            [re.compile(r"^First point"), re.compile(r"^Second point")]
        )
        expect(answer.locator("button.cite")).to_have_count(4)
        expect(answer.locator(".sources")).to_contain_text("Plain release")
        assert page.locator("#pwned").count() == 0

        # A stream that ends without its answer is an error with Retry.
        cut = event_stream([("delta", {"text": "Half an ans"})])
        page.unroute("**/api/query")
        page.route(
            "**/api/query",
            lambda route: route.fulfill(status=200, content_type="text/event-stream", body=cut),
        )
        ask(page, "q2")
        error = page.locator("article.error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("stopped before it was complete")
        page.unroute("**/api/query")
        page.route("**/api/query", query)
        error.locator("button.retry").click()
        expect(page.locator("article.answer")).to_have_count(2)
        expect(page.locator("article.error")).to_have_count(0)
        assert [s["question"] for s in sent] == ["q", "q2"]
    finally:
        page.context.close()
    assert not problems.items, problems.items


def test_the_streamed_text_shows_while_the_answer_is_written(
    chromium: Browser, live_server_url: str
) -> None:
    # The deltas appear as plain text in the pending bubble before the answer arrives: the
    # page's fetch is replaced by one whose body is a stream this test feeds by hand.
    feed = """
    window.__feed = null;
    const realFetch = window.fetch;
    window.fetch = function (url, opts) {
      if (!String(url).includes('/api/query')) return realFetch(url, opts);
      window.__sent = JSON.parse(opts.body);
      const enc = new TextEncoder();
      const body = new ReadableStream({start(c) { window.__feed = c; }});
      const push = (t) => window.__feed.enqueue(enc.encode(t));
      window.__push = push;
      return Promise.resolve(new Response(body, {
        status: 200, headers: {'Content-Type': 'text/event-stream'}}));
    };
    """
    page, problems = new_page(chromium, live_server_url, init_script=feed)
    try:
        page.goto("/")
        ask(page, "q")
        page.wait_for_function("window.__feed !== null")
        assert page.evaluate("window.__sent.stream") is True
        pending = page.locator("article.pending")
        # An event split across two chunks, and \r\n line ends.
        page.evaluate("""window.__push('event: delta\\r\\ndata: {"text": "<b>Par')""")
        page.evaluate("""window.__push('tial</b> [1]"}\\r\\n\\r\\n')""")
        expect(pending.locator(".stream-text")).to_have_text("<b>Partial</b> [1]")
        page.evaluate("""window.__push('event: delta\\ndata: {"text": " more"}\\n\\n')""")
        expect(pending.locator(".stream-text")).to_have_text("<b>Partial</b> [1] more")
        assert pending.locator("b").count() == 0
        answer = json.dumps(canned_answer("q"))
        page.evaluate("a => window.__push('event: answer\\ndata: ' + a + '\\n\\n')", answer)
        expect(page.locator("article.answer .answer-body ul > li")).to_have_count(2)
        expect(page.locator("article.pending")).to_have_count(0)
    finally:
        page.context.close()
    assert not problems.items, problems.items


# --------------------------------------------------------------------------- hostile release


HOSTILE_ID = "hostile-release"


def test_a_hostile_release_in_the_index_is_cited_as_text(
    chromium: Browser, live_server_url: str
) -> None:
    # Real engine: tests/data/hostile/hostile-release.md is indexed next to the repo's corpus;
    # its title and body carry <script>, <img onerror> and its url is javascript:.
    page, problems = new_page(chromium, live_server_url)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        page.goto("/")
        ask(page, "What does the agreement say about the mackerel quota?")
        answer = page.locator("article.answer")
        expect(answer).to_be_visible(timeout=WAIT_MS)
        expect(answer).not_to_have_class(re.compile(r"\babstained\b"))
        sources = answer.locator(".sources")
        expect(sources).to_contain_text("<script>alert('title')</script>")
        expect(sources).to_contain_text("<img src=x onerror=alert(1)>")
        expect(answer.locator(".answer-body")).to_contain_text("mackerel quota")
        # Only http(s) URLs become links: the release's javascript: URL is plain data.
        assert answer.locator("a[href^='javascript' i]").count() == 0
        assert answer.locator("img").count() == 0

        answer.locator("button.cite").first.click()
        panel = page.locator("#source-panel")
        expect(panel).to_be_visible()
        expect(panel.locator("#source-title")).to_contain_text(
            "<script>alert('title')</script> <img src=x onerror=alert(1)>"
        )
        expect(panel.locator("#source-meta")).to_contain_text("2024-05-01")
        expect(panel.locator("#source-meta")).to_contain_text(f"ID {HOSTILE_ID}")
        expect(panel.locator("#source-link-row")).to_contain_text("not a web address")
        assert panel.locator("#source-link-row a").count() == 0

        with page.expect_response(re.compile(r"/api/releases/")) as release_response:
            panel.get_by_role("button", name="Show the whole release").click()
        assert release_response.value.ok
        full = panel.locator("#release-full .release-text")
        expect(full).to_contain_text('<script>alert("body")</script>')
        expect(full).to_contain_text("<img src=x onerror=alert(2)>")
        expect(full).to_contain_text("mackerel quota")

        # Nothing from the data became markup: no image, no data script, no javascript: link.
        assert page.locator("#thread img, #source-panel img").count() == 0
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("a[href^='javascript' i]").count() == 0
        assert page.locator("[onerror]").count() == 0
        page.wait_for_timeout(300)  # an onerror would have fired by now
        assert dialogs == []
    finally:
        page.context.close()
    assert not problems.items, problems.items
