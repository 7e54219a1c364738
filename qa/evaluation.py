"""Measure retrieval and answers on a question set: our JSONL sets and BEIR-format sets."""

from __future__ import annotations

import gzip
import json
import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.chat import Turn, standalone_query
from qa.errors import BadRequest
from qa.retrieval import MODES, Hit

if TYPE_CHECKING:
    from qa.engine import Engine


@dataclass(frozen=True)
class Question:
    """One evaluation question with its gold releases and expected answer phrases."""

    id: str
    question: str
    release_ids: tuple[str, ...]
    answer_contains: tuple[str, ...] = ()
    kind: str = "fact"
    context: tuple[Turn, ...] = ()
    # other releases judged to state the same answer: a citation of one is correct; retrieval
    # is scored on ``release_ids`` (recall@k, mrr@10) and on both (judged_mrr@10)
    also_answer: tuple[str, ...] = ()


@dataclass
class Report:
    """Metrics of one retrieval mode over a question set."""

    mode: str
    metrics: dict[str, float] = field(default_factory=dict)
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    # (answerable?, confidence) per question, to calibrate the abstention threshold
    confidences: list[tuple[bool, float]] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        out.append(
            Question(
                id=str(d.get("id", n)),
                question=d["question"],
                release_ids=tuple(str(r) for r in d.get("release_ids", [])),
                answer_contains=tuple(d.get("answer_contains", [])),
                kind=d.get("kind", "fact"),
                context=tuple(Turn(t["role"], t["content"]) for t in d.get("context", [])),
                also_answer=tuple(str(r) for r in d.get("also_answer", [])),
            )
        )
    return out


def load_judgments(path: Path, questions: Sequence[Question]) -> list[Question]:
    """Add the releases a JSONL file of judgments (``{"id", "also_answer"}`` per line) says
    also state a question's answer: those of a larger corpus than the questions were written
    from, say. A judgment of a question not in the set is an error."""
    extra: dict[str, list[str]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            qid, ids = str(d["id"]), d["also_answer"]
            if not isinstance(ids, list):
                raise TypeError("also_answer is not a list of release ids")
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest(f"{path}:{n}: not a judgment ({exc})") from None
        ids = [str(r) for r in ids]
        extra.setdefault(qid, []).extend(ids)
    unknown = sorted(set(extra) - {q.id for q in questions})
    if unknown:
        raise BadRequest(f"{path}: judgments of questions not in the set: {', '.join(unknown)}")
    return [
        replace(q, also_answer=tuple(dict.fromkeys(q.also_answer + tuple(extra[q.id]))))
        if q.id in extra
        else q
        for q in questions
    ]


def release_ranking(hits: Sequence[Hit], limit: int = 10) -> list[str]:
    """Return the distinct releases of ``hits`` in rank order."""
    seen: list[str] = []
    for h in hits:
        if h.release.id not in seen:
            seen.append(h.release.id)
        if len(seen) == limit:
            break
    return seen


def ranking_metrics(ranked: Sequence[str], gold: Iterable[str]) -> dict[str, float]:
    """Recall@1/5/10, MRR@10 and nDCG@10 of a release ranking against the gold set."""
    gold = set(gold)
    out = {f"recall@{k}": len(gold & set(ranked[:k])) / len(gold) for k in (1, 5, 10)}
    first = next((i for i, r in enumerate(ranked[:10]) if r in gold), None)
    out["mrr@10"] = 0.0 if first is None else 1.0 / (first + 1)
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(ranked[:10]) if r in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    out["ndcg@10"] = dcg / ideal
    return out


def answer_ranking_metrics(texts: Sequence[str], phrases: Sequence[str]) -> dict[str, float]:
    """Recall@5 and MRR@10 judged by content rather than by release id: the smallest k at
    which the top k releases together contain every expected answer phrase.

    Over a large corpus the gold ids, picked from a subset, miss the later releases that
    repeat the same facts (a sentencing release restates the plea); this counts them.
    """
    missing = set(phrases)
    first = None
    for k, text in enumerate(texts[:10], 1):
        missing = {p for p in missing if p not in text}
        if not missing:
            first = k
            break
    return {
        "answer_recall@5": float(first is not None and first <= 5),
        "answer_mrr@10": 0.0 if first is None else 1.0 / first,
    }


def evaluate(
    engine: Engine,
    questions: Sequence[Question],
    modes: Sequence[str] = ("hybrid",),
    answers: bool = True,
) -> list[Report]:
    """Run every question through retrieval (each mode) and, for hybrid, the answer composer."""
    reports = []
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
        rows: list[dict[str, float]] = []
        kinds: list[str] = []
        latencies: list[float] = []
        report = Report(mode=mode)
        for q in questions:
            query = standalone_query(q.question, q.context).text
            row: dict[str, float] = {}
            if q.release_ids:
                hits = engine.search(q.question, k=30, mode=mode, history=q.context)
                ranked = release_ranking(hits)
                row.update(ranking_metrics(ranked, q.release_ids))
                # judged releases come from pooled top tens, not the whole corpus: recall over
                # them would mislead, so only the first judged release counts
                row["judged_mrr@10"] = ranking_metrics(ranked, q.release_ids + q.also_answer)[
                    "mrr@10"
                ]
                if q.answer_contains:
                    texts = [engine.index.releases[r].text for r in ranked]
                    row.update(answer_ranking_metrics(texts, q.answer_contains))
            if answers and mode == "hybrid":
                started = time.perf_counter()
                result = engine.ask(q.question, q.context)
                latencies.append((time.perf_counter() - started) * 1000)
                row.update(_answer_metrics(q, result.answer))
                report.confidences.append((bool(q.release_ids), result.answer.confidence))
                if (
                    row.get("answer_hit") == 0.0
                    or row.get("abstained_right") == 0.0
                    or (row.get("false_abstention") == 1.0)
                ):
                    report.failures.append(
                        {
                            "id": q.id,
                            "kind": q.kind,
                            "question": q.question,
                            "query": query,
                            "answer": result.answer.text[:300],
                        }
                    )
            rows.append(row)
            kinds.append(q.kind)
        report.metrics = _mean(rows)
        if latencies:
            report.metrics["latency_p50_ms"] = statistics.median(latencies)
            report.metrics["latency_p95_ms"] = _percentile(latencies, 95)
        for kind in sorted(set(kinds)):
            report.by_kind[kind] = _mean([r for r, k in zip(rows, kinds, strict=True) if k == kind])
        reports.append(report)
    return reports


def _answer_metrics(q: Question, answer: Any) -> dict[str, float]:
    if not q.release_ids:
        return {"abstained_right": float(answer.abstained)}
    row = {"false_abstention": float(answer.abstained)}
    if not answer.abstained:
        row["answer_hit"] = float(all(p in answer.text for p in q.answer_contains))
        cited = {s.release.id for s in answer.sources}
        if cited:
            row["citation_precision"] = len(cited & {*q.release_ids, *q.also_answer}) / len(cited)
    else:
        row["answer_hit"] = 0.0
    return row


def _mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for r in rows for k in r})
    return {k: statistics.fmean(r[k] for r in rows if k in r) for k in keys}


def _percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def calibrate(report: Report, max_false_abstention: float = 0.05) -> dict[str, float]:
    """Find the abstention threshold that abstains most on unanswerable questions while
    abstaining on at most ``max_false_abstention`` of the answerable ones."""
    answerable = sorted(c for a, c in report.confidences if a)
    unanswerable = [c for a, c in report.confidences if not a]
    if not answerable or not unanswerable:
        return {}
    allowed = int(max_false_abstention * len(answerable))
    threshold = answerable[allowed]  # abstaining below this drops at most ``allowed``
    return {
        "threshold": threshold,
        "abstention_recall": sum(c < threshold for c in unanswerable) / len(unanswerable),
        "false_abstention": sum(c < threshold for c in answerable) / len(answerable),
    }


# --- BEIR ---------------------------------------------------------------------------------


def load_beir(folder: Path, split: str = "test") -> tuple[list[dict[str, Any]], list[Question]]:
    """Read a BEIR dataset: corpus records (as releases) and the queries with relevant docs."""
    corpus_path = folder / "corpus.jsonl"
    if not corpus_path.exists():
        corpus_path = folder / "corpus.jsonl.gz"
    opener = gzip.open if corpus_path.suffix == ".gz" else open
    records = []
    with opener(corpus_path, "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            records.append(
                {
                    "id": str(d["_id"]),
                    "title": d.get("title") or str(d["_id"]),
                    "body": d.get("text") or d.get("title") or "",
                }
            )
    qrels: dict[str, set[str]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if n == 0 and not parts[-1].strip().lstrip("-").isdigit():
                continue  # header
            if len(parts) >= 3 and int(parts[2]) > 0:
                qrels.setdefault(parts[0], set()).add(parts[1])
    questions = []
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if str(d["_id"]) in qrels:
                questions.append(
                    Question(
                        id=str(d["_id"]),
                        question=d["text"],
                        release_ids=tuple(sorted(qrels[str(d["_id"])])),
                    )
                )
    return records, questions


def beir_index(folder: Path, index_dir: Path, settings: Any) -> Any:
    """Build (once) an index of a BEIR corpus in ``index_dir``; return its settings."""
    from qa import store
    from qa.build import rebuild_index

    records, _ = load_beir(folder)
    corpus_file = index_dir / "beir-corpus.jsonl"
    beir_settings = replace(settings, corpus=(corpus_file,), index_dir=index_dir)
    try:
        store.live_build_id(index_dir)
        return beir_settings
    except Exception:  # noqa: BLE001 - any unusable index is simply rebuilt
        pass
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(corpus_file, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    rebuild_index(beir_settings)
    return beir_settings
