"""Optional generative backend: an OpenAI-compatible model rewrites the answer from the cited
passages only; every [n] it cites is checked, and anything wrong falls back to the extractive
answer with the reason.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace

from qa.answer import Answer, AnswerSentence

SYSTEM_PROMPT = (
    "You answer questions about press releases using ONLY the numbered passages given. "
    "Write a short answer (at most five sentences). After every sentence put the number of "
    "the passage it comes from in square brackets, like [1] or [2]. Quote numbers, sums, names "
    "and dates exactly as the passages write them. If the passages do not answer the question, "
    "say so in one sentence."
)
CITATION = re.compile(r"\[(\d{1,3})\]")


class GenerationFailed(Exception):
    """The model could not be used for this answer; the message says why."""


@dataclass(frozen=True)
class Generated:
    """How an answer was written: by the model, or extractively after a fallback."""

    used: bool
    model: str
    fallback_reason: str | None = None


class Generator:
    """A client for an OpenAI-compatible `/chat/completions` endpoint."""

    def __init__(self, url: str, model: str, timeout: float = 20.0, api_key: str = "") -> None:
        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self.api_key = api_key

    def messages(self, answer: Answer) -> list[dict[str, str]]:
        """Return the prompt: the numbered passages, then the question."""
        passages = "\n\n".join(
            f"[{s.n}] {s.release.title} ({s.release.date or 'undated'})\n{s.passage}"
            for s in answer.sources
        )
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Passages:\n\n{passages}\n\nQuestion: {answer.question}"},
        ]

    def write(self, answer: Answer) -> tuple[Answer, Generated]:
        """Return the model's answer, or the extractive one with the reason it was kept."""
        if answer.abstained or not answer.sources:
            return answer, Generated(False, self.model, "nothing to write from: abstained")
        try:
            text = self._complete(answer)
            return self._checked(answer, text), Generated(True, self.model)
        except GenerationFailed as exc:
            return answer, Generated(False, self.model, str(exc))

    def stream(self, answer: Answer) -> Iterator[str | tuple[Answer, Generated]]:
        """Yield the model's text as it arrives, then (final answer, how it was written).

        After a failure mid-stream the final answer is the extractive one; the client should
        replace what it showed with it.
        """
        if answer.abstained or not answer.sources:
            yield answer, Generated(False, self.model, "nothing to write from: abstained")
            return
        parts: list[str] = []
        try:
            for delta in self._stream(answer):
                parts.append(delta)
                yield delta
            yield self._checked(answer, "".join(parts)), Generated(True, self.model)
        except GenerationFailed as exc:
            yield answer, Generated(False, self.model, str(exc))

    def _request(self, answer: Answer, stream: bool) -> urllib.request.Request:
        body = {
            "model": self.model,
            "messages": self.messages(answer),
            "stream": stream,
            "temperature": 0,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(
            self.endpoint, data=json.dumps(body).encode(), headers=headers
        )

    def _complete(self, answer: Answer) -> str:
        try:
            with urllib.request.urlopen(self._request(answer, False), timeout=self.timeout) as r:
                data = json.load(r)
            text = data["choices"][0]["message"]["content"]
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GenerationFailed(f"the model server did not answer: {_reason(exc)}") from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationFailed(f"the model server's reply was malformed: {exc!r}") from exc
        if not isinstance(text, str) or not text.strip():
            raise GenerationFailed("the model returned no text")
        return text

    def _stream(self, answer: Answer) -> Iterator[str]:
        try:
            with urllib.request.urlopen(self._request(answer, True), timeout=self.timeout) as r:
                for raw in r:
                    line = raw.decode("utf-8").strip()
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    delta = json.loads(payload)["choices"][0]["delta"].get("content") or ""
                    if not isinstance(delta, str):
                        raise GenerationFailed("the model streamed a non-text delta")
                    if delta:
                        yield delta
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GenerationFailed(f"the model server did not answer: {_reason(exc)}") from exc
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise GenerationFailed(f"the model server's stream was malformed: {exc!r}") from exc

    def _checked(self, answer: Answer, text: str) -> Answer:
        """Keep the model's text only if it cites listed sources; drop citations of others."""
        listed = {s.n for s in answer.sources}
        cited = {int(n) for n in CITATION.findall(text)}
        if not cited & listed:
            raise GenerationFailed("the model's answer cited none of the listed sources")
        text = CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in listed else "", text)
        return replace(answer, text=text.strip(), sentences=tuple(_sentences(text, listed)))


def _sentences(text: str, listed: set[int]) -> list[AnswerSentence]:
    from qa.chunking import split_sentences

    out = []
    for start, end in split_sentences(text):
        piece = text[start:end]
        citations = tuple(dict.fromkeys(int(n) for n in CITATION.findall(piece)))
        clean = CITATION.sub("", piece).strip()
        if clean:
            out.append(
                AnswerSentence(clean, tuple(n for n in citations if n in listed), "sentence")
            )
    return out


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and exc.reason:
        return str(exc.reason)
    return str(exc) or type(exc).__name__
