"""Validate the development question set for releases-qa.

Run from the repository root:

    python bench/questions/check.py
    python bench/questions/check.py --corpus /work/shared/corpus/doj-intl-283.jsonl \
        --seed /work/shared/seeds/000_c87de954c1b62dab.txt bench/questions/dev.jsonl

Defaults: the corpus and seed are looked up in ``shared/`` next to the repository
root (``<repo>/../shared/...``) and the question file is ``dev.jsonl`` beside this
script. Every line is checked (fields, kinds, unique ids, known release ids,
verbatim answer phrases, kind-specific rules); a summary of counts by kind is
printed, followed by every problem found. Exit status is 1 if there is any
problem, 0 otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT: Path = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS: Path = REPO_ROOT.parent / "shared" / "corpus" / "doj-intl-283.jsonl"
DEFAULT_SEED: Path = REPO_ROOT.parent / "shared" / "seeds" / "000_c87de954c1b62dab.txt"
DEFAULT_QUESTIONS: Path = Path(__file__).resolve().parent / "dev.jsonl"
DEFAULT_SCALE_CORPUS: Path = REPO_ROOT.parent / "shared" / "corpus" / "doj-opa-2009-2018.jsonl.gz"

SEED_RELEASE_ID = "interpol-asian-conference-2023"

KINDS: tuple[str, ...] = (
    "fact",
    "list",
    "paraphrase",
    "date",
    "multi",
    "followup",
    "unanswerable",
)
REQUIRED_KEYS: frozenset[str] = frozenset(
    {"id", "question", "release_ids", "answer_contains", "kind"}
)
# also_answer: other releases that state the same answer (found with --audit and read); a
# citation of one is correct, but retrieval is scored on release_ids alone
OPTIONAL_KEYS: frozenset[str] = frozenset({"context", "also_answer"})
CONTEXT_ROLES: frozenset[str] = frozenset({"user", "assistant"})
ID_PATTERN = re.compile(r"^[a-z]+\d{3,}$")  # q001 (dev), h001 (held out)
MAX_PHRASE_WORDS = 5
DEFAULT_MIN_QUESTIONS = 90


def load_corpus(corpus_path: Path, seed_path: Path | None) -> dict[str, str]:
    """Return release id -> searchable text (title + body) for every release."""
    texts: dict[str, str] = {}
    opener = gzip.open if corpus_path.suffix == ".gz" else open
    with opener(corpus_path, "rt", encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            release_id = str(record["id"])
            if release_id in texts:
                raise ValueError(f"{corpus_path}:{line_no}: duplicate release id {release_id}")
            texts[release_id] = f"{record.get('title', '')}\n{record.get('body', '')}"
    # The seed file is plain text: first line is the title, the rest the body.
    if seed_path is not None:
        texts[SEED_RELEASE_ID] = seed_path.read_text(encoding="utf-8")
    return texts


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_context(context: Any, where: str) -> list[str]:
    problems: list[str] = []
    if not isinstance(context, list) or not context:
        return [f"{where}: context must be a non-empty list of messages"]
    for index, message in enumerate(context):
        if not isinstance(message, dict):
            problems.append(f"{where}: context[{index}] is not an object")
            continue
        if set(message) != {"role", "content"}:
            problems.append(f"{where}: context[{index}] must have exactly 'role' and 'content'")
        role = message.get("role")
        content = message.get("content")
        if role not in CONTEXT_ROLES:
            problems.append(f"{where}: context[{index}] has invalid role {role!r}")
        if not isinstance(content, str) or not content.strip():
            problems.append(f"{where}: context[{index}] has empty or non-string content")
    roles = [m.get("role") for m in context if isinstance(m, dict)]
    if roles and roles[0] != "user":
        problems.append(f"{where}: context should start with a user message")
    return problems


def check_question(
    record: Any, where: str, releases: dict[str, str]
) -> tuple[list[str], str | None]:
    """Validate one parsed line; return (problems, kind if valid)."""
    problems: list[str] = []
    if not isinstance(record, dict):
        return [f"{where}: line is not a JSON object"], None

    missing = REQUIRED_KEYS - set(record)
    unknown = set(record) - REQUIRED_KEYS - OPTIONAL_KEYS
    if missing:
        problems.append(f"{where}: missing keys {sorted(missing)}")
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}")

    qid = record.get("id")
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        problems.append(f"{where}: id {qid!r} must look like 'q001'")

    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: question must be a non-empty string")

    kind = record.get("kind")
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
        kind = None

    release_ids = record.get("release_ids")
    if not is_str_list(release_ids):
        problems.append(f"{where}: release_ids must be a list of strings")
        release_ids = []
    elif len(set(release_ids)) != len(release_ids):
        problems.append(f"{where}: release_ids contains duplicates")
    for release_id in release_ids:
        if release_id not in releases:
            problems.append(f"{where}: unknown release id {release_id!r}")

    also = record.get("also_answer", [])
    if not is_str_list(also):
        problems.append(f"{where}: also_answer must be a list of strings")
        also = []
    for release_id in also:
        if release_id not in releases:
            problems.append(f"{where}: unknown release id {release_id!r} in also_answer")
        elif release_id in release_ids:
            problems.append(f"{where}: {release_id!r} is in both release_ids and also_answer")

    phrases = record.get("answer_contains")
    if not is_str_list(phrases):
        problems.append(f"{where}: answer_contains must be a list of strings")
        phrases = []
    elif len(set(phrases)) != len(phrases):
        problems.append(f"{where}: answer_contains contains duplicates")

    gold_texts = [releases[r] for r in release_ids if r in releases]
    for phrase in phrases:
        if not phrase.strip() or phrase != phrase.strip():
            problems.append(f"{where}: phrase {phrase!r} is empty or has surrounding spaces")
            continue
        if len(phrase.split()) > MAX_PHRASE_WORDS:
            problems.append(f"{where}: phrase {phrase!r} is longer than {MAX_PHRASE_WORDS} words")
        if gold_texts and not any(phrase in text for text in gold_texts):
            problems.append(
                f"{where}: phrase {phrase!r} not found verbatim in any gold release {release_ids}"
            )

    has_context = "context" in record
    if kind == "unanswerable":
        if release_ids:
            problems.append(f"{where}: unanswerable question must have empty release_ids")
        if phrases:
            problems.append(f"{where}: unanswerable question must have empty answer_contains")
    elif kind is not None:
        if not release_ids:
            problems.append(f"{where}: {kind} question needs at least one release id")
        if not phrases:
            problems.append(f"{where}: {kind} question needs at least one answer phrase")

    if kind == "list" and len(phrases) < 2:
        problems.append(f"{where}: list question needs at least two answer phrases")

    if kind == "multi":
        if len(release_ids) < 2:
            problems.append(f"{where}: multi question needs at least two release ids")
        for release_id in release_ids:
            text = releases.get(release_id)
            if text is not None and not any(p in text for p in phrases):
                problems.append(
                    f"{where}: multi gold release {release_id!r} contains none of the phrases"
                )

    if kind == "followup":
        if not has_context:
            problems.append(f"{where}: followup question needs a context")
        else:
            problems.extend(check_context(record["context"], where))
    elif has_context and kind == "unanswerable":
        # a follow-up the releases do not answer ("Who is his lawyer?")
        problems.extend(check_context(record["context"], where))
    elif has_context and kind is not None:
        problems.append(f"{where}: only followup and unanswerable questions may carry a context")

    return problems, kind


def validate(
    questions_path: Path, releases: dict[str, str], min_questions: int
) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    seen_questions: dict[str, int] = {}
    total = 0

    lines = questions_path.read_text(encoding="utf-8").splitlines()
    for line_no, line in enumerate(lines, start=1):
        where = f"line {line_no}"
        if not line.strip():
            problems.append(f"{where}: blank line")
            continue
        total += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: invalid JSON ({error})")
            counts["(invalid)"] += 1
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            where = f"line {line_no} ({record['id']})"
            if record["id"] in seen_ids:
                problems.append(
                    f"{where}: duplicate id, first used on line {seen_ids[record['id']]}"
                )
            else:
                seen_ids[record["id"]] = line_no
        if isinstance(record, dict) and isinstance(record.get("question"), str):
            key = " ".join(record["question"].lower().split())
            if key in seen_questions:
                problems.append(
                    f"{where}: duplicate question text, first on line {seen_questions[key]}"
                )
            else:
                seen_questions[key] = line_no
        line_problems, kind = check_question(record, where, releases)
        problems.extend(line_problems)
        counts[kind if kind is not None else "(invalid)"] += 1

    if total < min_questions:
        problems.append(f"file has {total} questions, expected at least {min_questions}")
    return counts, problems


def print_summary(counts: Counter[str], questions_path: Path) -> None:
    print(f"Question set: {questions_path}")
    width = max(len(k) for k in (*KINDS, "(invalid)", "total"))
    print(f"{'kind':<{width}}  count")
    print(f"{'-' * width}  -----")
    for kind in KINDS:
        print(f"{kind:<{width}}  {counts.get(kind, 0):>5}")
    if counts.get("(invalid)"):
        print(f"{'(invalid)':<{width}}  {counts['(invalid)']:>5}")
    print(f"{'-' * width}  -----")
    print(f"{'total':<{width}}  {sum(counts.values()):>5}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "questions",
        nargs="?",
        type=Path,
        default=DEFAULT_QUESTIONS,
        help=f"question file (default: {DEFAULT_QUESTIONS})",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"DOJ releases JSONL (default: {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=DEFAULT_SEED,
        help=f"INTERPOL release text (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--min-questions",
        type=int,
        default=DEFAULT_MIN_QUESTIONS,
        help="minimum number of questions expected (default: %(default)s)",
    )
    parser.add_argument(
        "--audit",
        action="store_true",
        help=(
            "also list, for review, releases outside a question's release_ids and also_answer "
            "that contain every one of its expected phrases (also_answer should name every "
            "other release that states the answer)"
        ),
    )
    parser.add_argument(
        "--judgments",
        type=Path,
        help="also check a file of judgments over a larger corpus, e.g. scale-judged.jsonl",
    )
    parser.add_argument(
        "--scale-corpus",
        type=Path,
        default=DEFAULT_SCALE_CORPUS,
        help=f"the corpus the judgments are of (default: {DEFAULT_SCALE_CORPUS})",
    )
    return parser.parse_args(argv)


def audit(questions_path: Path, releases: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Return (question id, release ids) for releases outside a question's release_ids and
    also_answer that contain all of its expected phrases: candidates for also_answer, to read
    and decide."""
    found: list[tuple[str, list[str]]] = []
    with questions_path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            q = json.loads(line)
            if not q.get("release_ids") or not q.get("answer_contains"):
                continue
            others = [
                rid
                for rid, text in releases.items()
                if rid not in q["release_ids"]
                and rid not in q.get("also_answer", [])
                and all(p in text for p in q["answer_contains"])
            ]
            if others:
                found.append((q["id"], others))
    return found


def _records(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def check_judgments(
    judgments_path: Path, questions_path: Path, releases: dict[str, str]
) -> list[str]:
    """Check a file of judgments ({id, also_answer} per line: more releases, of a larger
    corpus, judged to state a question's answer): known questions, known releases, none
    already a gold release, and each containing every expected phrase of its question."""
    questions = {q.get("id"): q for q in _records(questions_path)}
    problems: list[str] = []
    judged: set[tuple[str, str]] = set()
    for line_no, line in enumerate(judgments_path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{judgments_path.name}:{line_no}"
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or set(record) != {"id", "also_answer"}:
            problems.append(f"{where}: must have exactly 'id' and 'also_answer'")
            continue
        q = questions.get(record["id"]) if isinstance(record["id"], str) else None
        if q is None:
            problems.append(f"{where}: no question {record['id']!r} in {questions_path.name}")
            continue
        if not is_str_list(record["also_answer"]) or not record["also_answer"]:
            problems.append(f"{where}: also_answer must be a non-empty list of release ids")
            continue
        judged.update((q["id"], rid) for rid in record["also_answer"])
        for rid in record["also_answer"]:
            if rid in q.get("release_ids", []):
                problems.append(f"{where}: {rid} is already a release_id of {q['id']}")
            elif rid not in releases:
                problems.append(f"{where}: unknown release id {rid}")
            elif not all(p in releases[rid] for p in q.get("answer_contains", [])):
                problems.append(f"{where}: release {rid} lacks an expected phrase of {q['id']}")
    # the judgments are the "yes" verdicts of the file of verdicts beside them, if there is one
    verdicts_path = judgments_path.with_name("scale-verdicts.jsonl")
    if judgments_path.name == "scale-judged.jsonl" and verdicts_path.is_file():
        yes = {
            (v.get("id"), v.get("release_id"))
            for v in _records(verdicts_path)
            if v.get("answers") is True
        }
        for qid, rid in sorted(yes - judged, key=str):
            problems.append(f"{qid} {rid}: judged yes in {verdicts_path.name}, missing here")
        for qid, rid in sorted(judged - yes, key=str):
            problems.append(f"{qid} {rid}: listed here, not judged yes in {verdicts_path.name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for label, path in (
        ("corpus", args.corpus),
        ("seed", args.seed),
        ("questions", args.questions),
    ):
        if not path.is_file():
            print(f"error: {label} file not found: {path}", file=sys.stderr)
            return 1
    releases = load_corpus(args.corpus, args.seed)
    counts, problems = validate(args.questions, releases, args.min_questions)
    print_summary(counts, args.questions)
    print()
    if args.audit and not problems:
        for qid, others in audit(args.questions, releases):
            print(f"review {qid}: also contains every expected phrase: {', '.join(others)}")
        print()
    if args.judgments:
        if not args.scale_corpus.is_file():
            print(f"error: corpus file not found: {args.scale_corpus}", file=sys.stderr)
            return 1
        judged = check_judgments(
            args.judgments, args.questions, load_corpus(args.scale_corpus, None)
        )
        print(f"Judgments: {args.judgments} ({len(judged)} problem(s))")
        print()
        problems.extend(judged)
    if problems:
        print(f"{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("0 problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
