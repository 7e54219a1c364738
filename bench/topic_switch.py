"""Topic switches: each standalone question asked alone, and after an unrelated question.

    python bench/topic_switch.py --index build/dev [--lower] [--json FILE]

A chat reads a question that refers back ("What sentence did he get?") with the question
before it; one that starts a new topic must not be. Every question of the dev and held-out
sets that has no context is asked alone (the baseline, same run) and after the question before
it in its file (another case), with a placeholder answer between them. `--lower` types the
questions in lower case, as many people chat. The table gives how many were read as
follow-ups and what that cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table  # noqa: E402

sys.path.insert(0, str(REPO))
from qa.chat import Turn, standalone_query  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.evaluation import evaluate, load_questions  # noqa: E402
from qa.live import EngineHolder  # noqa: E402

SETS = ("dev", "heldout")
METRICS = ("mrr@10", "answer_hit", "citation_precision", "abstained_right")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--lower", action="store_true", help="Type the questions in lower case.")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    engine = EngineHolder(Settings.from_env(index_dir=args.index)).get()
    rows, out = [], {}
    for name in SETS:
        path = REPO / "bench" / "questions" / f"{name}.jsonl"
        alone = [q for q in load_questions(path) if not q.context]
        if args.lower:
            alone = [replace(q, question=q.question.lower()) for q in alone]
        after = [
            replace(q, context=(Turn("user", alone[i - 1].question), Turn("assistant", "…")))
            for i, q in enumerate(alone)
        ]
        read = sum(bool(standalone_query(q.question, q.context).context) for q in after)
        for label, questions in (("alone", alone), ("after another", after)):
            (report,) = evaluate(engine, questions, ("hybrid",))
            figures = {m: report.metrics.get(m) for m in METRICS}
            follow = f"{read}/{len(alone)}" if questions is after else "-"
            rows.append([name, label, follow, *figures.values()])
            out[f"{name} {label}"] = {"read_as_follow_ups": follow, **figures}
    print(machine())
    print(table(["set", "asked", "read as follow-ups", *METRICS], rows))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
