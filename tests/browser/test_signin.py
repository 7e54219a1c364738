"""The page's sign-in, against a real `qa serve` started with QA_API_TOKENS (gunicorn, two
workers, the real model over the repo's INTERPOL release), in Debian's Chromium."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from browsers import WAIT_MS
from conftest import SEED_DIR, _free_port, serving
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.model]

TOKEN = "page-" + "c3" * 12
QUESTION = "Which measures target terrorism?"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`qa serve` on a loopback address with two access tokens: one is this page's."""
    home = tmp_path_factory.mktemp("signin")
    port = _free_port()
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(home / "index"),
        "QA_CORPUS": str(SEED_DIR),
        "QA_PORT": str(port),
        "QA_WORKERS": "2",  # a cookie one worker issues must open the other one too
        "QA_THREADS": "2",
        "QA_API_TOKENS": f"other:{'d4' * 12}, {TOKEN}",
    }
    env.pop("QA_PUBLIC", None)
    with serving(home, env) as url:
        yield url
    log_path = home / "serve.log"
    assert "Access: an access token is required (2 configured)." in log_path.read_text()


@pytest.fixture
def page(chromium: Browser, token_server: str) -> Iterator[Page]:
    context = chromium.new_context(base_url=token_server, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error"
            and ("Content Security Policy" in msg.text or "Refused" in msg.text)
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems


def ask(page: Page, question: str) -> None:
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_with_the_token_then_ask(page: Page, token_server: str) -> None:
    with urllib.request.urlopen(token_server + "/") as resp:  # the shell itself is open
        assert resp.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(token_server + "/api/search?q=terrorism")
    assert refused.value.code == 401

    page.goto("/")
    form = page.get_by_role("form", name="Sign in")
    expect(form).to_be_visible()
    expect(form).to_contain_text("This server needs an access token")
    expect(page.get_by_label("Access token")).to_have_attribute("type", "password")
    expect(page.get_by_label("Access token")).to_be_focused()
    # /api/health stays open, so the header still describes the index.
    expect(page.locator("#index-status")).to_contain_text(re.compile(r"\d+ releases?"))

    sign_in(page, "not-the-token-at-all")
    expect(page.locator("#signin-error")).to_have_text(
        "That access token was not accepted. Check it and try again."
    )
    expect(form).to_be_visible()
    assert not page.context.cookies()

    sign_in(page, TOKEN)
    expect(form).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()
    ask(page, QUESTION)
    answer = page.locator("article.answer").first
    expect(answer).to_be_visible(timeout=WAIT_MS)
    expect(answer.locator(".answer-body ul > li")).to_have_count(3)
    expect(answer.locator(".sources")).to_contain_text("INTERPOL Asian Conference")

    # The session is an HttpOnly, SameSite=Strict cookie that is not the token; the page
    # can read neither, and keeps no copy of the token.
    [cookie] = page.context.cookies()
    assert cookie["name"] == "qa_session" and cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert TOKEN not in cookie["value"]
    assert "qa_session" not in page.evaluate("document.cookie")
    assert TOKEN not in page.evaluate("JSON.stringify(Object.assign({}, localStorage))")

    # Still signed in after a reload (and whichever worker answers): no form, answers come.
    page.reload()
    expect(page.locator("article.answer")).to_have_count(1)
    ask(page, "Who is the Secretary General of INTERPOL?")
    expect(page.locator("article.answer, article.abstained")).to_have_count(2, timeout=WAIT_MS)
    expect(page.get_by_role("form", name="Sign in")).to_have_count(0)


def test_a_refused_question_becomes_the_sign_in_and_is_asked_again(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    ask(page, QUESTION)  # without signing in: the server answers 401
    turn = page.locator(".turn")
    expect(turn).to_have_count(1)
    form = turn.get_by_role("form", name="Sign in")
    expect(form).to_be_visible()  # the form moved into the reply, instead of the error
    expect(page.get_by_role("form", name="Sign in")).to_have_count(1)
    expect(turn.locator(".error-title")).to_be_hidden()
    expect(turn.get_by_role("button", name="Retry")).to_be_hidden()

    with page.expect_request("**/api/query") as retried:
        sign_in(page, TOKEN)
    assert retried.value.post_data_json["question"] == QUESTION
    expect(turn.locator("article.answer")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".turn")).to_have_count(1)
    expect(page.get_by_role("form", name="Sign in")).to_have_count(0)

    # Signed out (DELETE /api/session), the next question brings the form back.
    status = page.evaluate(
        "fetch('/api/session', {method: 'DELETE'}).then(function (r) { return r.status; })"
    )
    assert status == 204 and not page.context.cookies()
    ask(page, "Which measures target terrorism in Asia?")
    expect(page.locator(".turn").nth(1).get_by_role("form", name="Sign in")).to_be_visible()
