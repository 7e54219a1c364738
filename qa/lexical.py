"""The words BM25 indexes and searches: lower-cased, stop words removed, Snowball-stemmed.

Builds index releases with these tokens and answers read candidate sentences with them, so
the two agree.
"""

from __future__ import annotations

import functools
import re
import threading
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
