"""Abstention: how many unanswerable questions abstain, and how many answerable ones wrongly
do, at each threshold on the evidence model's confidence.

    python bench/abstention.py --index build/train bench/questions/train-a.jsonl \
        bench/questions/train-b.jsonl bench/questions/dev.jsonl

Every question is answered once with no threshold (QA_ABSTAIN_BELOW=0: what abstains then
abstains for another reason, such as a name no release mentions); a question abstains at
threshold t if it did so or its confidence is below t. Prints the curve and the threshold
that abstains most on unanswerable questions while abstaining on at most 5% of the others.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table  # noqa: E402

sys.path.insert(0, str(REPO))
from qa.config import Settings  # noqa: E402
from qa.evaluation import load_questions  # noqa: E402
from qa.live import EngineHolder  # noqa: E402

THRESHOLDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, default=Path("build/train"))
    parser.add_argument("--max-false", type=float, default=0.05)
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.index, abstain_below=0.0)
    engine = EngineHolder(settings).get()
    rows: list[tuple[bool, bool, float]] = []  # answerable, abstained anyway, confidence
    for path in args.questions:
        for q in load_questions(path):
            answer = engine.ask(q.question, q.context).answer
            rows.append((bool(q.release_ids), answer.abstained, answer.confidence))
    answerable = [r for r in rows if r[0]]
    unanswerable = [r for r in rows if not r[0]]

    def rates(t: float) -> tuple[float, float]:
        held = sum(a or c < t for _, a, c in unanswerable) / max(1, len(unanswerable))
        false = sum(a or c < t for _, a, c in answerable) / max(1, len(answerable))
        return held, false

    print(machine())
    print(f"{len(answerable)} answerable and {len(unanswerable)} unanswerable questions")
    headers = ("threshold", "unanswerable abstained", "answerable abstained")
    print(table(headers, [(f"{t:.2f}", *(f"{r:.3f}" for r in rates(t))) for t in THRESHOLDS]))
    fine = [t / 100 for t in range(0, 100) if rates(t / 100)[1] <= args.max_false]
    best = max(fine, key=lambda t: (rates(t)[0], -t)) if fine else 0.0
    held, false = rates(best)
    print(
        f"QA_ABSTAIN_BELOW={best:.2f}: abstains on {held:.3f} of unanswerable questions and "
        f"{false:.3f} of answerable ones"
    )


if __name__ == "__main__":
    main()
