"""`qa eval` and `qa train-scorer`: the figures of a question set, and the fitted models
learnt from question sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from qa.cli_options import env_settings, index_option, say_loading
from qa.errors import QAError


@click.command("eval")
@index_option
@click.option(
    "--questions",
    type=click.Path(exists=True, path_type=Path),
    help="JSONL question set (default: bench/questions/dev.jsonl).",
)
@click.option(
    "--beir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); its "
    "index is built in --index (default build/beir-<name>) on first use.",
)
@click.option(
    "--judgments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL of more releases judged to state each question's answer ({id, also_answer}), "
    "e.g. bench/questions/scale-judged.jsonl for the 12,694 releases.",
)
@click.option("--baselines", is_flag=True, help="Also run BM25-only and dense-only retrieval.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    help="Write the numbers to this JSON file.",
)
@click.option("--failures", is_flag=True, help="List the questions the answers got wrong.")
def eval_cmd(
    index_dir: Path | None,
    questions: Path | None,
    beir: Path | None,
    judgments: Path | None,
    baselines: bool,
    json_path: Path | None,
    failures: bool,
) -> None:
    """Measure retrieval and answers on a question set and print a table."""
    from qa.evaluation import (
        beir_index,
        calibrate,
        evaluate,
        load_beir,
        load_judgments,
        load_questions,
    )
    from qa.live import EngineHolder

    settings = env_settings(index_dir=index_dir)
    try:
        if beir:
            settings = beir_index(beir, index_dir or Path("build") / f"beir-{beir.name}", settings)
            qs = load_beir(beir)[1]
        else:
            qs = load_questions(questions or Path("bench/questions/dev.jsonl"))
        if judgments:
            qs = load_judgments(judgments, qs)
        engine = EngineHolder(settings).get()
        modes = ("hybrid", "lexical", "dense") if baselines else ("hybrid",)
        reports = evaluate(engine, qs, modes, answers=beir is None)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    _print_reports(reports, len(qs))
    calibration = calibrate(reports[0])
    if calibration:
        click.echo(
            "Abstention threshold that keeps false abstentions <= 5%: "
            f"QA_ABSTAIN_BELOW={calibration['threshold']:.3f} (abstains on "
            f"{calibration['abstention_recall']:.0%} of unanswerable questions; "
            f"configured: {settings.abstain_below})"
        )
    if failures:
        for f in reports[0].failures:
            click.echo(
                f"\n[{f['id']} {f['kind']}] {f['question']}\n  query: {f['query']}\n"
                f"  answer: {f['answer']}"
            )
    if json_path:
        json_path.write_text(
            json.dumps(
                {
                    "questions": len(qs),
                    "index": str(settings.index_dir),
                    "reports": [
                        {"mode": r.mode, "metrics": r.metrics, "by_kind": r.by_kind}
                        for r in reports
                    ],
                },
                indent=2,
            )
            + "\n"
        )


def _print_reports(reports: list[Any], n: int) -> None:
    from rich.console import Console
    from rich.table import Table

    names = {"hybrid": "hybrid", "lexical": "BM25 only", "dense": "dense only"}
    table = Table(title=f"{n} questions")
    table.add_column("metric")
    for r in reports:
        table.add_column(names[r.mode], justify="right")
    keys = list(dict.fromkeys(k for r in reports for k in r.metrics))
    for key in keys:
        table.add_row(key, *[_fmt(r.metrics.get(key)) for r in reports])
    console = Console(width=120)
    console.print(table)
    hybrid = reports[0]
    if len(hybrid.by_kind) > 1:
        kinds = Table(title="hybrid, by kind of question")
        kinds.add_column("kind")
        cols = [
            "recall@5",
            "mrr@10",
            "answer_hit",
            "citation_precision",
            "false_abstention",
            "abstained_right",
        ]
        for c in cols:
            kinds.add_column(c, justify="right")
        for kind, m in hybrid.by_kind.items():
            kinds.add_row(kind, *[_fmt(m.get(c)) for c in cols])
        console.print(kinds)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value > 1.5 else f"{value:.3f}"


def _model_file(flag: str, help: str) -> Any:
    """An option naming a model file `train-scorer` writes (default: the one the package
    ships)."""
    return click.option(
        flag, type=click.Path(dir_okay=False, path_type=Path), default=None, help=help
    )


@click.command("train-scorer")
@index_option
@click.option(
    "--questions",
    "question_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL question set to learn from (repeatable), e.g. bench/questions/train-a.jsonl.",
)
@_model_file("--out", "Model file to write (default: the one the package ships, qa/evidence.json).")
@_model_file(
    "--types-out",
    "Where to write the reader of the kinds of answer a question asks for (default: "
    "the one the package ships, qa/answer_types.json).",
)
@_model_file(
    "--joins-out",
    "Where to write the model that decides whether another release joins an answer "
    "(default: the one the package ships, qa/joins.json).",
)
@_model_file(
    "--adapter-out",
    "Where to write the mapping of the question's embedding (default: the one the package "
    "ships, qa/adapter.npz).",
)
@click.option(
    "--joins-only",
    is_flag=True,
    help="Fit only the join model, under the reader and evidence model in place.",
)
def train_scorer(
    index_dir: Path | None,
    question_files: tuple[Path, ...],
    out: Path | None,
    types_out: Path | None,
    joins_out: Path | None,
    adapter_out: Path | None,
    joins_only: bool,
) -> None:
    """Fit the reader of the kinds of answer questions ask for, then the mapping of the
    question's embedding, then the evidence model (a LightGBM ranker), then the model that
    decides whether another release joins an answer, on question sets, and write the four.

    Needs scikit-learn (pip install -e '.[train]'). Prints cross-validated figures beside
    those of the models they replace.
    """
    from qa.adapter import ADAPTER_FILE, Adapter
    from qa.answer_types import TYPES_FILE, TypeReader
    from qa.evaluation import load_questions
    from qa.evidence import WEIGHTS_FILE
    from qa.joining import JOINS_FILE
    from qa.live import EngineHolder
    from qa.training import (
        collect_joins,
        collect_pairs,
        fit,
        fit_adapters,
        fit_joins,
        read_types,
    )

    settings = env_settings(index_dir=index_dir)
    try:
        questions = [q for path in question_files for q in load_questions(path)]
        say_loading("the model and the index")
        engine = EngineHolder(settings).get()
        readers: list[TypeReader] = []
        adapters: list[Adapter] = []
        if not joins_only:
            reader, readers = read_types(engine, questions)
            # the sentences' and questions' embeddings the mapping is fitted on, then the
            # pairs the ranker is fitted on, each question mapped without its own fold
            try:
                adapter, adapters = fit_adapters(engine, collect_pairs(engine, questions, readers))
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            pairs = collect_pairs(engine, questions, readers, adapters)
            scorer, report = fit(pairs, engine.composer.scorer)
            types_target = types_out or TYPES_FILE
            reader.save(types_target)
            for key, value in reader.trained.items():
                click.echo(f"{'kinds ' + key:<18} {value}")
            click.echo(f"Wrote {types_target}.")
            adapter_target = adapter_out or ADAPTER_FILE
            adapter.save(adapter_target)
            for key, value in adapter.trained.items():
                click.echo(f"{'mapping ' + key:<18} {value}")
            click.echo(f"Wrote {adapter_target}.")
            target = out or WEIGHTS_FILE
            scorer.save(target)
            for key, value in report.items():
                click.echo(f"{key:<18} {value}")
            click.echo(f"Wrote {target}.")
            # the joins are decided on the scores of the evidence model just fitted
            engine.composer.scorer = scorer
            engine.composer.sentences.adapter = adapter
        joins = collect_joins(engine, questions, readers, adapters)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    try:
        joiner, joins_report = fit_joins(joins)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    joins_target = joins_out or JOINS_FILE
    joiner.save(joins_target)
    for key, value in joins_report.items():
        click.echo(f"{'joins ' + key:<18} {value}")
    click.echo(f"Wrote {joins_target}.")
