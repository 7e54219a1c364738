"""What a question asks the name of, and texts that speak of it without naming it."""

from __future__ import annotations

import pytest

from qa.withheld import Thing, asked_thing, reason, unnamed


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("What is the name of the Minnesota-based company whose modules went to Iran?", "company"),
        ("What was the name of the individual in Italy who arranged the sessions?", "individual"),
        ("What was the name of the joint venture formed by the two firms?", "venture"),
        ("What is the name of the Saipan restaurant run by J.E.T. Holding Co.?", "restaurant"),
        ("What is the name of the detainee originally from the West Bank?", "detainee"),
        ("Name the company that made the modules.", "company"),
    ],
)
def test_the_name_of_a_thing_is_asked_for(question: str, thing: str) -> None:
    assert asked_thing(question) == Thing(thing, True)


def test_which_asks_for_the_thing_or_its_owner() -> None:
    assert asked_thing("Which hotel chain did they claim to represent?") == Thing("chain", False)
    # "Which U.S. company's web server ...?" asks which company
    owner = "Which U.S. company's web server did he breach?"
    assert asked_thing(owner) == Thing("company", False)
    # words that end a phrase do not run into the thing: not "which drone"
    assert asked_thing("Which engines and which drone did she send?") is None
    assert asked_thing("Who is his lawyer?") is None
    assert asked_thing("When was he sentenced?") is None


@pytest.mark.parametrize(
    ("thing", "text", "phrase"),
    [
        (
            "company",
            "The modules were made by a Minnesota-based company.",
            "a Minnesota-based company",
        ),
        (
            "individual",
            "They were arranged by an individual in Italy who sold videos.",
            "an individual",
        ),
        (
            "agent",
            "An undercover FBI agent (the UC) convinced the defendants.",
            "An undercover FBI agent",
        ),
        (
            "company",
            "He hacked a victim company located in the United States, which held data.",
            "a victim company",
        ),
    ],
)
def test_a_thing_spoken_of_only_as_a_something_is_unnamed(
    thing: str, text: str, phrase: str
) -> None:
    assert unnamed(thing, [text]) == phrase


@pytest.mark.parametrize(
    ("thing", "text"),
    [
        # a name set beside it, with an age between or "which is"
        ("company", "Andreev worked for AW-Tronics, a Miami export company, which shipped parts."),
        ("citizen", "Mevlid Jasarevic, 23, a citizen of Serbia, was indicted today."),
        ("unit", "He is a member of Qods Force, which is a special operations unit of the IRGC."),
        # one it is called, or after its place
        ("company", "Cabrera owned and operated a company called FE Electronic in Riga."),
        ("attorney", "The fraud of Judge Daugherty and an attorney in Kentucky, Eric Conn."),
        # one right after the word, or one said to be it
        ("vessel", "A patrol vessel stopped a trawler, the fishing vessel Lady Samaira."),
        ("inspector", "Shortridge worked as an environmental inspector for the Office."),
        # the word describes another noun: "a campaign staffer" is a staffer
        ("campaign", "He met a campaign staffer working for the congresswoman."),
    ],
)
def test_a_thing_named_or_not_spoken_of_is_not_unnamed(thing: str, text: str) -> None:
    assert unnamed(thing, [text]) == ""


def test_a_name_elsewhere_in_the_release_is_enough() -> None:
    chosen = ["The modules were made by a Minnesota-based company."]
    release = "Lim shipped modules made by Nortek Radio, a Minnesota-based company, to Iran."
    assert unnamed("company", chosen) == "a Minnesota-based company"
    assert unnamed("company", chosen, [release]) == ""
    assert reason("company", chosen) == (
        "The closest releases do not name the company: they say only “a Minnesota-based company”."
    )
    assert reason("company", chosen, [release]) == ""
