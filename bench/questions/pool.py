"""List the releases to judge for a question set over a larger index (TREC-style pooling).

The dev questions were written from 284 releases; over all 12,694 releases other releases
state the same answers (a sentencing release restates the plea's fine). This pools the ten
best releases of hybrid, BM25-only and dense-only search for every question, keeps those
outside its ``release_ids`` and ``also_answer`` that contain every expected phrase, and
writes each with the passages around the phrases, for a reader to judge whether the release
states the answer to the question as asked. Every verdict, with its reason, is kept in
``scale-verdicts.jsonl``, and the releases judged to state the answer in ``scale-judged.jsonl``
(read by ``qa eval --judgments``). Run from the repository root:

    python bench/questions/pool.py --index build/scale --verdicts \
        bench/questions/scale-verdicts.jsonl --out build/pool.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from qa.config import Settings  # noqa: E402
from qa.evaluation import load_questions, release_ranking  # noqa: E402
from qa.live import EngineHolder  # noqa: E402

AROUND = (400, 250)  # characters kept before and after an expected phrase


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="index folder")
    parser.add_argument(
        "--questions", type=Path, default=REPO_ROOT / "bench" / "questions" / "dev.jsonl"
    )
    parser.add_argument(
        "--verdicts", type=Path, help="verdicts already given (those releases are left out)"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSONL of releases to judge")
    args = parser.parse_args(argv)

    engine = EngineHolder(Settings.from_env(index_dir=args.index)).get()
    questions = load_questions(args.questions)
    judged = set()
    if args.verdicts:
        for line in args.verdicts.read_text(encoding="utf-8").splitlines():
            if line.strip():
                verdict = json.loads(line)
                judged.add((verdict["id"], verdict["release_id"]))
    written = 0
    with args.out.open("w", encoding="utf-8") as out:
        for q in questions:
            if not q.release_ids or not q.answer_contains:
                continue
            pool: dict[str, None] = {}
            for mode in ("hybrid", "lexical", "dense"):
                hits = engine.search(q.question, k=30, mode=mode, history=q.context)
                pool.update(dict.fromkeys(release_ranking(hits)))
            previous = [t.content for t in q.context if t.role == "user"]
            for rid in pool:
                if rid in q.release_ids or rid in q.also_answer or (q.id, rid) in judged:
                    continue
                release = engine.index.releases[rid]
                text = f"{release.title}\n{release.text}"
                if not all(p in text for p in q.answer_contains):
                    continue
                excerpts = []
                for p in q.answer_contains:
                    at = text.find(p)
                    excerpts.append(text[max(0, at - AROUND[0]) : at + len(p) + AROUND[1]])
                record = {
                    "qid": q.id,
                    "kind": q.kind,
                    "question": q.question,
                    "previous_question": previous[-1] if previous else None,
                    "expected": list(q.answer_contains),
                    "gold_release": q.release_ids[0],
                    "release_id": rid,
                    "title": release.title,
                    "date": release.date,
                    "excerpts": excerpts,
                }
                out.write(json.dumps(record) + "\n")
                written += 1
    print(f"{written} releases to judge -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
