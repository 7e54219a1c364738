"""Does the evidence ranker gain from more training questions? Top-1 on questions it never saw.

    python bench/ranker_data.py --index build/scale \
        --fitted bench/questions/train-a.jsonl ... --unseen bench/questions/train-e.jsonl ...

Labels the best sentences of every question as `qa train-scorer` does (under the shipped
model), then prints the share of the answerable ``--unseen`` questions whose best-scored
sentence holds an answer: for the shipped model, for a ranker refitted on the ``--fitted``
questions alone, and cross-validated (five folds by question) over all of them, the
``--unseen`` ones included, as a refit on all would be.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table  # noqa: E402

sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    from sklearn.model_selection import GroupKFold

    from qa.config import Settings
    from qa.evaluation import load_questions
    from qa.live import EngineHolder
    from qa.training import FOLDS, _ranker, _top1, collect_pairs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--fitted", type=Path, nargs="+", required=True)
    parser.add_argument("--unseen", type=Path, nargs="+", required=True)
    args = parser.parse_args(argv)

    questions, unseen = [], []
    for path in [*args.fitted, *args.unseen]:
        for q in load_questions(path):
            questions.append(q)
            unseen.append(path in args.unseen)
    engine = EngineHolder(Settings.from_env(index_dir=args.index)).get()
    pairs = collect_pairs(engine, questions)
    x, y, g = np.asarray(pairs.rows), np.asarray(pairs.labels), np.asarray(pairs.groups)
    new = np.asarray([unseen[q] for q in pairs.groups])

    def top1(scores: np.ndarray, rows: np.ndarray) -> float:
        idx = np.flatnonzero(rows)
        return _top1(scores[idx].tolist(), y[idx].tolist(), g[idx].tolist(), pairs.answerable)

    shipped = np.asarray(engine.composer.scorer.scores(pairs.rows))
    refit = _ranker(x[~new], y[~new], g[~new]).predict(x)
    held = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, g):
        held[test] = _ranker(x[train], y[train], g[train]).predict(x[test])
    everything = np.ones(len(y), dtype=bool)
    print(machine())
    print(f"{len(questions)} questions ({sum(unseen)} unseen), {len(y)} labelled sentences")
    print(
        table(
            ["model", "top-1 on the unseen", "top-1 on all"],
            [
                ["shipped", round(top1(shipped, new), 4), "-"],
                ["refitted on --fitted", round(top1(refit, new), 4), "-"],
                [
                    "cross-validated over all",
                    round(top1(held, new), 4),
                    round(top1(held, everything), 4),
                ],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
