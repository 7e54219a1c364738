"""The question mapped before it meets the sentences: a matrix fitted on labelled pairs so that
the product of a question's embedding, mapped, with a sentence's is high where the sentence
holds the answer (the evidence features ``adapted`` and ``adapted_gap``).

The embedding model matches a question to what is *like* it. A sentence that answers is often
less like the question than one that restates its case ("What monthly pay were the young
Ukrainians promised?"): the mapping learns, from the training questions, which directions of a
question's embedding point to the sentences that answer. It ships as data (``adapter.npz``
beside this module, float32) and `qa train-scorer` fits it again, before the ranker, which
learns from each training question's products under a mapping fitted without it.

The fit: ``A = I + W``, ``W`` minimising over the training questions the softmax loss of each
question's answering sentences among its labelled ones (scores ``(A q) · s`` times
``TEMPERATURE``), plus ``L2`` times the squared norm of ``W``, by full-batch Adam from ``W = 0``
(``EPOCHS`` steps, deterministic on a CPU). ``L2`` was chosen on train-a to d, dev and
follow-ups against train-e to h (2026-12-07, docs/decisions.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADAPTER_FILE = Path(__file__).resolve().parent / "adapter.npz"

L2 = 0.1  # weight of the squared norm of A - I in the loss
EPOCHS = 100
LEARNING_RATE = 0.01
TEMPERATURE = 20.0  # products of unit vectors are small: the softmax sees them scaled


@dataclass(frozen=True, eq=False)
class Adapter:
    """A square matrix that maps a question's embedding by ``model`` (an index's, without its
    backend) before its products with the sentences' embeddings."""

    model: str
    matrix: Any  # numpy float32, (dimension, dimension)
    trained: dict[str, Any]

    def reads(self, model: str) -> bool:
        """Whether it maps the embeddings of ``model`` (an index's model, any backend)."""
        return model.partition("+")[0] == self.model

    def map(self, vector: Any) -> Any:
        """The question's embedding mapped (float32); the identity for a vector of another
        size (another model's)."""
        import numpy as np

        v = np.asarray(vector, dtype=np.float32)
        if v.shape != (self.matrix.shape[1],):
            return v
        return self.matrix @ v

    def save(self, path: Path) -> None:
        import numpy as np

        meta = json.dumps({"model": self.model, "trained": self.trained})
        with path.open("wb") as f:
            np.savez(f, matrix=np.asarray(self.matrix, dtype=np.float32), meta=np.array(meta))

    @staticmethod
    def load(path: Path = ADAPTER_FILE) -> Adapter | None:
        """Read a mapping file; None if there is none (the features then weigh nothing)."""
        import numpy as np

        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            matrix = np.asarray(data["matrix"], dtype=np.float32)
            meta = json.loads(str(data["meta"]))
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"{path} holds no square matrix: run `qa train-scorer`")
        return Adapter(model=str(meta["model"]), matrix=matrix, trained=dict(meta["trained"]))

    @staticmethod
    def fit(
        model: str,
        questions: Any,
        sentences: Any,
        labels: Any,
        groups: Any,
        trained: dict[str, Any] | None = None,
    ) -> Adapter:
        """Fit on labelled pairs: row ``i`` pairs question vector ``questions[i]`` with
        sentence vector ``sentences[i]``, labelled ``labels[i]`` (1: it holds an answer), of
        question ``groups[i]``. Questions with no sentence labelled 1 teach nothing and are
        left out."""
        import numpy as np
        import torch

        q = np.asarray(questions, dtype=np.float32)
        s = np.asarray(sentences, dtype=np.float32)
        y = np.asarray(labels, dtype=np.float32)
        g = np.asarray(groups)
        answered = {int(k) for k in np.unique(g[y > 0])}
        keep = np.asarray([int(k) in answered for k in g], dtype=bool)
        dim = q.shape[1] if q.ndim == 2 else s.shape[1]
        w = torch.zeros(dim, dim, requires_grad=True)
        if keep.any():
            qt, st = torch.from_numpy(q[keep]), torch.from_numpy(s[keep])
            yt = torch.from_numpy(y[keep])
            gt = torch.from_numpy(np.unique(g[keep], return_inverse=True)[1].astype(np.int64))
            n = int(gt.max()) + 1
            optimiser = torch.optim.Adam([w], lr=LEARNING_RATE)
            with torch.random.fork_rng():
                torch.manual_seed(0)
                for _ in range(EPOCHS):
                    optimiser.zero_grad()
                    z = ((qt * st).sum(1) + ((qt @ w) * st).sum(1)) * TEMPERATURE
                    top = torch.zeros(n).scatter_reduce(0, gt, z, "amax", include_self=False)
                    e = torch.exp(z - top[gt])
                    every = torch.zeros(n).index_add(0, gt, e)
                    answering = torch.zeros(n).index_add(0, gt, e * yt)
                    loss = -(torch.log(answering + 1e-12) - torch.log(every)).mean()
                    (loss + L2 * (w**2).sum()).backward()
                    optimiser.step()
        matrix = (np.eye(dim, dtype=np.float32) + w.detach().numpy().T).astype(np.float32)
        return Adapter(model=model, matrix=matrix, trained=dict(trained or {}))
