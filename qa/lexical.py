"""The words BM25 indexes and searches: lower-cased, stop words removed, Snowball-stemmed.

Builds index releases with these tokens and answers read candidate sentences with them, so
the two agree.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence

# Question words the NLTK list lacks; in a question they carry no topic.
EXTRA_STOPWORDS = ("many", "much", "whose")

_local = threading.local()  # a Snowball stemmer per thread: stemmers are not thread-safe
WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern


def lexical_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Tokenize for BM25: lower-case words, English stop words removed, Snowball-stemmed.

    The same tokens as ``bm25s.tokenize`` with these options (checked on the 283 DOJ
    releases), without its per-call set-up: answers tokenize every candidate sentence.
    """
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    stop = _stopwords()
    return [stemmer.stemWords([w for w in WORD.findall(t.lower()) if w not in stop]) for t in texts]


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset([*STOPWORDS_EN_PLUS, *EXTRA_STOPWORDS])


# an apostrophe inside a word ("O'Shea", "D’Antonio"); a possessive's is left to the stemmer
_INNER_APOSTROPHE = re.compile(r"(?<=\w)['’‘`](?=\w\w)")


def spellings(word: str) -> list[str]:
    """Other spellings a corpus may hold of ``word``, where text lost characters on its way
    from the web page: its inner apostrophe dropped ("O'Shea" -> "OShea"), its accented
    letters folded ("Graubündner" -> "Graubundner") or dropped ("Graubndner"). None for a
    plain word."""
    if word.isascii() and not _INNER_APOSTROPHE.search(word):
        return []
    joined = _INNER_APOSTROPHE.sub("", word)
    folded = unicodedata.normalize("NFKD", joined)
    out = [
        joined,
        "".join(c for c in folded if not unicodedata.combining(c)),
        "".join(c for c in joined if c.isascii()),
    ]
    return [w for w in dict.fromkeys(out) if w and w != word]


def query_tokens(text: str) -> list[str]:
    """``lexical_tokens`` of a question, with the tokens of the other spellings of its words
    (``spellings``) that it does not already have: the question written with its apostrophes
    and accents still finds text that lost them, and text that kept them as before."""
    tokens = lexical_tokens([text])[0]
    others = [w for word in text.split() for w in spellings(word.strip('.,;:!?()"“”'))]
    if not others:
        return tokens
    extra = [t for t in lexical_tokens([" ".join(others)])[0] if t not in tokens]
    return tokens + list(dict.fromkeys(extra))
