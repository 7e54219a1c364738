"""What a text names: the names a question gives and whether releases have them, whether a
sentence names a person, and the words of a text as names are looked up in (``Words``).

The evidence features (``evidence``), the checks before an answer (``grounds``) and the
selection of its sentences read names through these; they are English spelling and
apposition, not one agency's vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.lexical import spellings


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A run of capitalised words in a sentence (initials and "de", "bin", "van" inside), not at
# its start; a person's name is one that, its titles aside ("Attorney General"), has two or
# more words and none that names an organisation, a place or a law ("Federal Trade
# Commission", "Childrens National Medical Center Inc.", "False Claims Act").
CAPITALISED = re.compile(
    r"(?<=\S\s)(?:[A-Z][\w'’-]+|[A-Z]\.)(?:\s+(?:(?:de|da|del|bin|van|von|al|le|la)\s+)?"
    r"(?:[A-Z][\w'’-]+|[A-Z]\.))+"
)
_TITLES = _word_set(
    "Mr. Mrs. Ms. Dr. Judge Justice Attorney Agent Charge Director Secretary General Officer "
    "Commissioner Inspector Chief President Minister Ambassador Sheriff Prosecutor Senator "
    "Representative Governor Mayor Detective Sergeant Lieutenant Captain Colonel Deputy "
    "Administrator Commander Assistant Acting Special Magistrate Chairman Chairwoman Chair "
    "U.S. United States District Associate Principal Executive Vice Senior"
)
_NOT_PERSONAL = _word_set(
    "Department Commission Court Office Fund Act Center Centre Hospital University College "
    "School Bureau Agency Administration Service Services Inc Inc. Corp Corp. Corporation "
    "Company Co. LLC L.L.C. Ltd Ltd. LLP Bank Group Association Council Committee Board "
    "Authority Ministry Police Force Division Unit Program Programme Project Operation Task "
    "Team Trust Foundation Institute Organization Organisation Party Army Navy Republic "
    "Kingdom States Union Nations County City District State Street Avenue Road Airport "
    "Island Islands River Hotel Conference Summit Meeting Forum Report Code Law Rule Order "
    "Treaty Agreement Memorandum Goals Day Week Month Year Register Section Title Article "
    "Network System Systems Holdings Partners Industries International Global National "
    "Federal Justice Health Security Attorney's Attorneys Prison Jail Penitentiary Medicare "
    "Medicaid Internet Web"
)
PLACE_BEFORE = re.compile(r"\b(?:in|at|from|near|to|across|of the|in the)\s+$", re.I)
# capitalised by English spelling, yet dates, not names
CALENDAR = frozenset(
    re.findall(
        r"\w+",
        "january february march april may june july august september october november december "
        "monday tuesday wednesday thursday friday saturday sunday",
    )
)


def name_words(names: Sequence[str]) -> frozenset[str]:
    """Return the words of ``names``, possessives stripped."""
    words = (re.sub(r"['’]s$", "", w) for n in names for w in re.findall(r"[\w'’]+", n.lower()))
    return frozenset(w for w in words if len(w) > 1)


# a title written short before a name: "Lt.", "Col.", "Sgt.", "Rep.", "U.S.", "CPA" (not an
# initial: "J. Smith")
ABBREVIATION = re.compile(r"[A-Z][a-z]{1,3}\.|[A-Z](?:\.[A-Z])+\.?|[A-Z]{2,4}")


def named_part(name: str) -> str:
    """A name without the titles written short before it and what comes before them ("Lt.
    Col. Derrick Shoemake", "Army Capt. Elbert George" -> "Derrick Shoemake", "Elbert
    George"), which a release may write out or leave out; at least two words stay."""
    words = name.split()
    last = max((n for n, w in enumerate(words[:-2]) if ABBREVIATION.fullmatch(w)), default=-1)
    return " ".join(words[last + 1 :])


def unmentioned(names: Sequence[str], texts: Sequence[Words]) -> list[str]:
    """Return the names of several words that no one of ``texts`` (their ``word_set``) has
    every word of, titles written short aside (``named_part``). A single capitalised word is
    often a place or a nationality that a paraphrase puts for another ("Thai police",
    "Pyongyang's suppliers"); several together name someone or something."""
    return [name for name, words in _several_words(names) if not _in_one(words, texts)]


def mentioned(names: Sequence[str], texts: Sequence[Words]) -> list[frozenset[str]]:
    """The words of those of ``names`` of several words (as ``unmentioned`` reads them) that
    one of ``texts`` has every word of."""
    return [words for _, words in _several_words(names) if _in_one(words, texts)]


def _several_words(names: Sequence[str]) -> list[tuple[str, frozenset[str]]]:
    """Each name of several words, titles written short aside, with its words."""
    return [(name, words) for name in names if len(words := name_words([named_part(name)])) > 1]


def _in_one(words: frozenset[str], texts: Sequence[Words]) -> bool:
    return any(share_of(words, t) == 1.0 for t in texts)


# a name followed by its state or country ("Sugar Land, Texas, nurse"): a place
_PLACE_AFTER = re.compile(r",\s+[A-Z]")


def person_asked(name: str, question: str) -> bool:
    """Whether ``question`` gives ``name`` as someone's: a person's name (``_personal``),
    not said as a place ("in Central America", "the Sugar Land, Texas, nurse")."""
    at = question.find(name)
    if at >= 0 and (
        PLACE_BEFORE.search(question[:at]) or _PLACE_AFTER.match(question, at + len(name))
    ):
        return False
    return _personal(name.split())


def names_person(text: str) -> bool:
    """Whether a sentence names someone: a run of capitalised words that, its titles aside,
    has two or more words, none of an organisation's, a place's or a date's."""
    for m in CAPITALISED.finditer(text):
        words = m.group().split()
        if words[0] not in _TITLES and PLACE_BEFORE.search(text[: m.start()]):
            continue  # "in New York", "from Los Angeles": a place ("in Charge John Doe" not)
        if _personal(words):
            return True
    return False


def _personal(words: list[str]) -> bool:
    """Whether capitalised words, their titles aside, are a person's name: two or more, none
    of an organisation's, a place's or a date's."""
    while words and (words[0] in _TITLES or (words[0].isupper() and len(words[0]) > 2)):
        words = words[1:]  # "INTERPOL Secretary General Jürgen Stock"
    return (
        len(words) >= 2
        and not any(w.isupper() and len(w) > 2 for w in words)
        and not any(w.rstrip(",") in _NOT_PERSONAL or w.lower() in CALENDAR for w in words)
    )


WORD = re.compile(r"[\w'’]+")


class Words(frozenset[str]):
    """The words of a text in lower case, what ``share_of`` looks names up in, with that text:
    the other forms of a word (``_has``) are looked for only where the text has their stem."""

    text: str

    def __new__(cls, text: str) -> Words:
        lower = text.lower()
        words = super().__new__(cls, WORD.findall(lower))
        words.text = lower
        return words

    def __reduce__(self) -> tuple[type[Words], tuple[str]]:  # pickle and copy from the text
        return Words, (self.text,)


def word_set(text: str) -> Words:
    """The words of ``text``, in lower case (what ``share_of`` looks names up in)."""
    return Words(text)


def share_of(words: frozenset[str], have: Words) -> float:
    """Return the share of ``words`` that ``have`` holds, in some form (``_has``); 1 for none."""
    if not words:
        return 1.0
    return sum(_has(w, have) for w in words) / len(words)


def _has(word: str, have: Words) -> bool:
    """Whether ``have`` holds ``word`` or a form of it: a possessive, with or without the
    apostrophe the text may have lost ("INTERPOLs"), another spelling of it (``spellings``:
    "OShea" for "O'Shea"), or a word that shares all but its last few letters ("Austrian"
    and "Austria", "Mexican" and "Mexico")."""
    if word in have or any(word + end in have for end in ("s", "'s", "’s")):
        return True
    if any(other in have for other in spellings(word)):
        return True
    if len(word) < 5:
        return False
    stem = word[: max(4, len(word) - 3)]
    return stem in have.text and any(
        h.startswith(stem) and abs(len(h) - len(word)) <= 3 for h in have
    )
