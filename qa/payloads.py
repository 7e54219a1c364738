"""What the JSON faces read and write: query requests checked and parsed, results, hits and
filters as JSON."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from qa.chat import Turn
from qa.config import Settings
from qa.dates import DateReading
from qa.errors import BadRequest
from qa.generate import Generated
from qa.retrieval import Filters, Hit

if TYPE_CHECKING:
    from qa.engine import Result


def parse_request(settings: Settings, payload: Any) -> tuple[str, list[Turn], int, Filters]:
    """Validate a query payload; raise ``BadRequest`` saying what is wrong."""
    if not isinstance(payload, dict):
        raise BadRequest('the body must be a JSON object like {"question": "..."}')
    question = payload.get("question")
    if not isinstance(question, str) or blank(question):
        raise BadRequest("`question` is required and must be a non-empty string")
    if len(question) > settings.max_question_chars:
        raise BadRequest(
            f"`question` is {len(question)} characters; the limit is {settings.max_question_chars}"
        )
    _check_text(question, "`question`")
    k = payload.get("k", settings.top_k)
    if isinstance(k, float) and k.is_integer():
        k = int(k)  # 32.0 is the integer 32 in JSON
    if isinstance(k, bool) or not isinstance(k, int):
        raise BadRequest(f"`k` must be a whole number from 1 to {settings.max_k}")
    k = parse_k(settings, k)
    history_raw = payload.get("history", [])
    if not isinstance(history_raw, list):
        raise BadRequest('`history` must be a list of {"role", "content"} objects')
    if len(history_raw) > settings.max_history:
        raise BadRequest(
            f"`history` has {len(history_raw)} turns; the limit is {settings.max_history}"
        )
    history = []
    for n, turn in enumerate(history_raw):
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
        ):
            raise BadRequest(
                f'`history[{n}]` must be {{"role": "user"|"assistant", "content": str}}'
            )
        if len(turn["content"]) > settings.max_question_chars * 10:
            raise BadRequest(
                f"`history[{n}].content` is longer than {settings.max_question_chars * 10} "
                "characters"
            )
        _check_text(turn["content"], f"`history[{n}].content`")
        history.append(Turn(turn["role"], turn["content"]))
    return question.strip(), history, k, parse_filters(payload.get("filters"))


def _check_text(text: str, what: str) -> None:
    """Refuse text that is no Unicode text: a lone surrogate ("\\ud800") passes JSON but
    cannot be encoded, tokenized or shown."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(
            f"{what} holds a character that is not valid text (a lone surrogate)"
        ) from None


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Blank: nothing but what Python or JavaScript call white space (the OpenAPI document's
# `pattern` for a question is the same set, negated).
BLANK = re.compile(r"[\s\ufeff]*")


def blank(text: str) -> bool:
    """Tell whether ``text`` has nothing but white space."""
    return BLANK.fullmatch(text) is not None


def parse_k(settings: Settings, value: Any) -> int:
    """Validate ``k``: a whole number from 1 to ``settings.max_k``."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= settings.max_k:
        raise BadRequest(f"`k` must be a whole number from 1 to {settings.max_k}")
    return value


def parse_filters(value: Any) -> Filters:
    """Validate filters: ``date_from``/``date_to`` as YYYY-MM-DD, ``source`` as text."""
    if value in (None, {}):
        return Filters()
    if not isinstance(value, dict):
        raise BadRequest("`filters` must be an object with date_from, date_to, source")
    unknown = set(value) - {"date_from", "date_to", "source"}
    if unknown:
        raise BadRequest(f"unknown filter(s): {', '.join(sorted(unknown))}")
    dates: dict[str, str | None] = {}
    for name in ("date_from", "date_to"):
        raw = value.get(name)
        if raw in (None, ""):
            dates[name] = None
            continue
        if not isinstance(raw, str):
            raise BadRequest(f"`filters.{name}` must be a date like 2016-03-01")
        try:
            from datetime import date

            if not ISO_DATE.fullmatch(raw):
                raise ValueError(raw)
            dates[name] = date.fromisoformat(raw).isoformat()
        except ValueError:
            raise BadRequest(
                f"`filters.{name}` must be a date like 2016-03-01, not {raw!r}"
            ) from None
    source = value.get("source")
    if source is not None and not isinstance(source, str):
        raise BadRequest("`filters.source` must be a string")
    if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
        # The two ends given the wrong way round: the range they name (the reply's
        # `query.filters` shows the dates applied).
        dates["date_from"], dates["date_to"] = dates["date_to"], dates["date_from"]
    return Filters(date_from=dates["date_from"], date_to=dates["date_to"], source=source or None)


def result_json(result: Result) -> dict[str, Any]:
    """Render a result as the JSON object the API and `qa ask --json` return."""
    a = result.answer
    return {
        "question": result.question,
        "answer": a.text,
        "sentences": [
            {"text": s.text, "citations": list(s.citations), "kind": s.kind} for s in a.sentences
        ],
        "sources": [
            {
                "n": s.n,
                "release_id": s.release.id,
                "title": s.release.title,
                "date": s.release.date,
                "url": s.release.url,
                "source": s.release.source,
                "passage": s.passage,
                "highlights": [list(h) for h in s.highlights],
                "score": s.score,
            }
            for s in a.sources
        ],
        "abstained": a.abstained,
        "confidence": a.confidence,
        "message": a.message,
        "suggestions": [release_summary(r) for r in a.suggestions],
        "generator": generated_json(result.generated),
        "query": query_json(result.query, result.filters, result.dates),
        "timings_ms": result.timings_ms,
    }


def query_json(text: str, filters: Filters, dates: DateReading) -> dict[str, Any]:
    """Render how a question was read: the text searched with, the filters applied and the
    dates it names."""
    return {"text": text, "filters": filters_json(filters), "dates": dates_json(dates)}


def release_summary(r: Any) -> dict[str, Any]:
    """Render the identifying fields of a release."""
    return {"release_id": r.id, "title": r.title, "date": r.date, "url": r.url, "source": r.source}


def filters_json(f: Filters) -> dict[str, str]:
    """Render the filters that were applied (empty ones left out)."""
    return {
        k: v
        for k, v in (("date_from", f.date_from), ("date_to", f.date_to), ("source", f.source))
        if v
    }


def generated_json(g: Generated | None) -> dict[str, Any] | None:
    """Render how the answer was written (None without a generative backend)."""
    if g is None:
        return None
    return {"used": g.used, "model": g.model, "fallback_reason": g.fallback_reason}


def dates_json(d: DateReading) -> dict[str, Any] | None:
    """Render how the question's dates were read (None when it named none)."""
    if not d.phrase:
        return None
    return {
        "phrase": d.phrase,
        **filters_json(d.filters),
        "applied_as": "filter" if d.strict and d.filters else "preference",
        "recent": d.recent,
    }


def hit_json(hit: Hit) -> dict[str, Any]:
    """Render a search hit."""
    return {
        "release_id": hit.release.id,
        "chunk_id": hit.chunk.id,
        "title": hit.release.title,
        "date": hit.release.date,
        "url": hit.release.url,
        "text": hit.chunk.text,
        "score": round(hit.score, 6),
        "similarity": round(hit.similarity, 4),
    }
