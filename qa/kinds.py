"""The kinds of answer a question asks for (a sum, a term, a day, a place, a list, ...) and
what in a sentence gives one: the patterns behind the evidence model's "kind" feature and the
composer's checks that an answer states what was asked."""

from __future__ import annotations

import re
from collections.abc import Sequence

# an auxiliary verb: where the noun a "which/what ..." question asks about has ended
AUXILIARY = r"(?:was|is|has|does|did|do|are|were|have|had|will|would|can|could)\b"
# a plural, roughly: a lower-case word ending in "s" that is not "was", "his", ...
PLURAL = r"(?!(?:was|is|has|does|this|its|his|hers|us|as)\b)(?-i:[a-z]\w*s)"
# "Which countries ...", "What types of goods ...", "List the charges": a plural noun within three
# words of "which"/"what" (hyphens and dots inside them: "Which counter-terrorism measures",
# "Which U.S. banks"; not a possessive: "Which country's authorities" asks for a country),
# before any auxiliary ("What sentence did ..." asks for one thing), in lower case (a
# capitalised word is a name: "Which prison was Davis sent to?")
LIST_QUESTION = re.compile(
    r"^\s*(?:(?:in|into|from|to|at|for|of|with|by|on|against|through|across|among|between|"
    r"under|over|about)\s+)?(?:which|what)\s+"
    rf"(?:(?!{AUXILIARY})[\w.-]+\s+){{0,2}}?"
    rf"(?P<listed>{PLURAL})\b(?!\s+(?:is|was|has)\b)"
    r"|^\s*(?:list|enumerate|name all)\b|\b(?:what are|what were|which are)\b"
    # "Name the three U.S. citizens held hostage ...": name and a plural
    r"|^\s*name\s+(?:(?:the|all|each|every|some\s+of\s+the)\s+)?"
    r"(?:(?!(?:who|whom|that|which|whose|where|when|for|of|in|on|at|by|with|from|to)\b)"
    r"[\w.,'’-]+\s+){0,7}?"
    rf"(?P<named>{PLURAL}|men|women|people)\b",
    re.IGNORECASE,
)


def listed(question: str) -> str:
    """The plural a list question asks for ("Which website domains were seized?" ->
    "domains"), or "" if it asks for none ("What are the charges?", or no list at all)."""
    m = LIST_QUESTION.search(question)
    return (m.group("listed") or m.group("named") or "") if m else ""


NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|dozens?"
)
# "today", "yesterday", a weekday: the day of the release's news, unless it only dates the
# announcement ("the Department announced today", "said on Tuesday")
RELATIVE_DAY = (
    r"(?<!announced )(?<!announces )(?<!said )(?<!says )(?<!stated )(?<!reported )"
    r"(?<!confirmed )(?<!announced on )(?<!said on )"
    r"\b(?:today|yesterday|monday|tuesday|wednesday|thursday|friday)\b"
)
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)


class Series:
    """Finds a list written inline: three or more short items in a series, the last one after
    "and"/"or" ("sports equipment, shoes, handbags and sunglasses"). Linear in the text, where
    a regular expression for it backtracks quadratically on long comma-laden sentences."""

    LAST = re.compile(r"^(?:and|or|as well as) \S|\S,? (?:and|or|as well as) \S")

    def search(self, text: str) -> bool:
        for clause in re.split(r"[;:.]", text):
            items = clause.split(", ")
            for i in range(len(items) - 2):
                if (
                    2 <= len(items[i]) <= 40
                    and 2 <= len(items[i + 1]) <= 40
                    and self.LAST.search(items[i + 2][:60])
                ):
                    return True
        return False


# What kind of answer a question asks for, and what a sentence that gives it contains.
ANSWER_TYPES: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | Series], ...] = (
    (
        "money",
        re.compile(
            r"\bhow much\b(?! (?:time|longer)\b)|\b(?:fine|penalty|penalties|forfeit\w*|"
            r"restitution|bribes?|amount|sum|profits?|proceeds|worth|value)\b",
            re.I,
        ),
        re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s*(?:million|billion|dollars|euros)\b", re.I),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long\b|\bhow much (?:time|longer)\b|\bsentenced?\b|\bprison\b|\bterm\b|"
            r"\bjail\b",
            re.I,
        ),
        re.compile(
            rf"\b(?:\d+|{NUMBER_WORDS})[- ](?:years?|months?|weeks?|days?)\b(?!-old)|\blife\b", re.I
        ),
    ),
    (
        # "On what date", "which days": a day, not a year ("launched in 2018" is no answer)
        "day",
        re.compile(r"\b(?:what|which) (?:date|dates|day|days)\b", re.I),
        re.compile(
            rf"\b(?:{MONTHS})\.? \d{{1,2}}\b|\b\d{{1,2}} (?:{MONTHS})\b|" + RELATIVE_DAY,
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^\s*(?:since |until |till )?when\b|\b(?:what|which) (?:year|month)\b|"
            r"\bhow long ago\b",
            re.I,
        ),
        re.compile(
            rf"\b(?:{MONTHS})\.? \d{{1,2}}\b|\b\d{{1,2}} (?:{MONTHS})\b|\b(?:19|20)\d\d\b|"
            + RELATIVE_DAY,
            re.I,
        ),
    ),
    (
        # "Where was the conference held?", "in which country ...": a place, as a dateline
        # gives it ("ABU DHABI, United Arab Emirates -") or after a preposition ("in Chile")
        "place",
        re.compile(
            r"^\W*(?:(?:and|so)\s+)?where\b|\b(?:in|from|to|at) (?:which|what) (?:country|"
            r"countries|city|cities|state|states|town|place|region|port)\b",
            re.I,
        ),
        re.compile(
            r"^[A-Z][A-Z .'’-]{2,},|\b(?:in|at|from|near)\s+(?:the\s+)?"
            rf"(?!(?i:{MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)"
            r"[A-Z][a-z]+"
        ),
    ),
    (
        # "What types of goods...", "which malware families...": a list written inline, three
        # or more items in a series ("sports equipment, shoes, handbags and sunglasses")
        "series",
        LIST_QUESTION,
        Series(),
    ),
    (
        # the charges, asked as what someone is charged with ("What is he charged with?",
        # "which charges"), not who was ("Who is accused of running ...?")
        "charges",
        re.compile(
            r"\b(?:charged with|accused of|convicted of|found guilty of|indicted for|"
            r"plead(?:ed)? guilty to)(?:\s+(?:in|on|at|by|after|before)\b[^?]*)?\s*[?.]?\s*$|"
            r"\b(?:what|which) (?:\w+ ){0,2}(?:charges|counts|crimes|offen[cs]es)\b(?! as\b)",
            re.I,
        ),
        re.compile(
            r"\b(?:charg(?:ed|es|ing) (?:\w+ ){0,3}?(?:with|of)|counts? of|accused of|"
            r"convicted of|indicted (?:on|for)|pleaded guilty to|guilty of)\b",
            re.I,
        ),
    ),
    (
        # an age, as releases give it after a full name or an alias ("Karim Baratov, 22, of
        # Ancaster", "aka Theblackflag, 52,"), not a figure after a place ("Kenya, 12, Uganda")
        "age",
        re.compile(r"\bhow old\b|\b(?:what|which) age\b|\b(?:his|her|their) ages?\b", re.I),
        re.compile(
            r"\b[A-Z][\w'.-]+\s[A-Z][\w'.-]*,\s\d{1,2},\s|\baka\s[\w'.-]+,\s\d{1,2},\s|"
            r"\b\d{1,2}-year-old\b|\baged?\s\d{1,2}\b|\b\d{1,2} years old\b"
        ),
    ),
    (
        # a number of things: not a year, not a "three-year" or "10-count" modifier
        "count",
        re.compile(r"\bhow many\b|\bnumber of\b", re.I),
        re.compile(
            rf"(?<![\d,.])(?!(?:19|20)\d\d\b)\d[\d,.]*\b(?!-)|\b(?:{NUMBER_WORDS})\b(?!-)",
            re.I,
        ),
    ),
)

FOUND = {name: found for name, _, found in ANSWER_TYPES}
NUMBER = re.compile(rf"\d[\d,.]*|{NUMBER_WORDS}|million|billion", re.I)


def expected_types(question: str) -> list[tuple[str, re.Pattern[str] | Series]]:
    """Return the kinds of answer a question asks for, with the pattern that finds each."""
    types = [(name, found) for name, asks, found in ANSWER_TYPES if asks.search(question)]
    # a series is what a list question wants only when it wants nothing more specific
    # ("on which days" wants days)
    return [t for t in types if t[0] != "series"] or types


PENALTIES = ("duration", "money")  # the kinds of answer a penalty faced states
FACED_REACH = 60  # characters before a figure that can make it a penalty faced
# a sentence about a penalty someone faces, not one handed down ("may advocate for up to 25 years")
FACED = re.compile(
    r"\b(?:face[sd]?|facing|could|would|might|maximum|potential|up to|(?-i:may))\b", re.I
)
# within a clause, a penalty handed down ("was sentenced to the statutory maximum of 20 years")
HANDED_DOWN = re.compile(r"\b(?:sentenced|ordered to (?:pay|serve|forfeit)|imposed)\b", re.I)
CLAUSE_BREAK = re.compile(r"[;:()]|[,.]\s")

# the whole figure, where the pattern that finds a kind of answer finds only part of it
VALUE = {
    "money": re.compile(
        r"[$€£]\s?\d[\d,.]*(?:\s*(?:million|billion|thousand)\b)?|"
        r"\b\d[\d,.]*\s*(?:million|billion|dollars|euros)\b",
        re.I,
    )
}


def value_pattern(name: str) -> re.Pattern[str]:
    found = VALUE.get(name, FOUND[name])
    assert isinstance(found, re.Pattern), name  # a series is no single value
    return found


def values(text: str, types: Sequence[str], prospective: bool) -> set[str]:
    """The answers of the asked kinds a sentence gives ("$5.5 million", "March 13, 2010").
    What someone faces or could get ("faces up to life") answers no question about what was."""
    return {
        re.sub(r"[\s,$€£]", "", m.group().lower()).rstrip(".")
        for name in types
        for m in value_pattern(name).finditer(text)
        if prospective or name not in PENALTIES or not faced(text, m.start())
    }


def holds(text: str, name: str, stated: bool) -> bool:
    """Whether a unit holds an answer of the kind ``name``; if ``stated``, one not in the
    scope of a penalty faced ("five years in prison", not "faces up to five years")."""
    found = FOUND[name]
    if not stated or not isinstance(found, re.Pattern):
        return bool(found.search(text))
    return any(not faced(text, m.start()) for m in found.finditer(text))


def faced(text: str, at: int) -> bool:
    """Whether the figure at ``at`` is a penalty faced: "faces up to", "a maximum of", "could
    get" comes before it in its clause, and nothing there hands one down (in "will be
    sentenced to five years in prison, and could face a fine of up to $2.5 million" the fine
    is, the prison term is not; in "Petrov, who faced up to 20 years, was sentenced to 30
    months" and "sentenced to the statutory maximum of 20 years" neither is)."""
    clause = CLAUSE_BREAK.split(text[max(0, at - FACED_REACH) : at])[-1]
    return bool(FACED.search(clause)) and not HANDED_DOWN.search(clause)
