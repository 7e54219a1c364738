"""Dense weight: how the fusion's weight of the dense score moves the releases answers cite
from, by kind of question.

    python bench/dense_weight.py --index build/scale --weights 0.35,0.5,0.65 \
        bench/questions/train-{a,b,c,d,e,f,g,h}.jsonl

For every answerable question and every weight, the order of the releases of
``Engine.found``'s hits (the search answers quote from) is judged against its gold releases
and those that also answer it: MRR@10 and the share with one of them first, per kind.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table  # noqa: E402

sys.path.insert(0, str(REPO))
from qa.config import Settings  # noqa: E402
from qa.evaluation import load_questions, ranking_metrics, release_ranking  # noqa: E402
from qa.live import EngineHolder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, default=Path("build/scale"))
    parser.add_argument("--weights", default="0.35,0.5,0.65")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    engine = EngineHolder(Settings.from_env(index_dir=args.index)).get()
    questions = [q for path in args.questions for q in load_questions(path) if q.release_ids]
    kinds = sorted({q.kind for q in questions})
    rows = []
    for weight in weights:
        engine.retriever.dense_weight = weight
        ranks: dict[str, list[float]] = defaultdict(list)
        for q in questions:
            ranked = release_ranking(engine.found(q.question, q.context).hits)
            rr = ranking_metrics(ranked, {*q.release_ids, *q.also_answer})["mrr@10"]
            ranks[q.kind].append(rr)
            ranks["all"].append(rr)
        rows.append(
            (
                f"{weight:.2f}",
                *(
                    f"{sum(v) / len(v):.3f} / {sum(x == 1 for x in v) / len(v):.2f}"
                    for v in (ranks[k] for k in ["all", *kinds])
                ),
            )
        )
    print(machine())
    print(f"{len(questions)} answerable questions; MRR@10 / share with a gold release first")
    print(table(("dense weight", "all", *kinds), rows))


if __name__ == "__main__":
    main()
