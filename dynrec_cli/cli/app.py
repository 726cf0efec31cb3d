"""The Typer app. Only dispatch lives here: every scientific setting is a Hydra key.

Heavy imports (torch, transformers, pandas) happen inside the commands so `dynrec --help`
answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from dynrec_cli.cli import verbs
from dynrec_cli.cli.complete import complete_override
from dynrec_cli.cli.hydra_show import CFG_MODES, INFO_MODES, hydra_flags

app = typer.Typer(
    name="dynrec",
    help=(
        "Train, run and evaluate recommenders that follow users' changing interests.\n\n"
        "Pipeline: prepare → pretrain → finetune → capture → rank → evaluate. Every command "
        "takes Hydra overrides (key=value), e.g. `dynrec train model=sasrec run_dir=runs/a`."
    ),
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion; overrides complete from the config
    rich_markup_mode="markdown",
)
config_app = typer.Typer(help="Inspect the composed configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

Overrides = Annotated[
    Optional[list[str]],
    typer.Argument(help="Hydra overrides, key=value.", show_default=False, autocompletion=complete_override),
]
ConfigDir = Annotated[
    Optional[Path],
    typer.Option("--config-dir", help="A folder of your own configs, searched after dynrec's: it adds options; a file named as a shipped one is ignored."),
]
Multirun = Annotated[bool, typer.Option("-m", "--multirun", help="Run a Hydra sweep (a,b lists, ranges).")]
PrintConfig = Annotated[
    bool, typer.Option("--print-config", help="Print the composed config, resolved, as dynrec runs it (like --cfg job --resolve), and exit.")
]
Cfg = Annotated[
    Optional[str],
    typer.Option("--cfg", "-c", help=f"Hydra's --cfg: print the config ({'|'.join(CFG_MODES)}) and exit.", show_default=False),
]
Resolve = Annotated[bool, typer.Option("--resolve", help="With --cfg: resolve interpolations.")]
Package = Annotated[Optional[str], typer.Option("--package", "-p", help="With --cfg: print only this package, e.g. model.", show_default=False)]
Info = Annotated[
    bool,
    typer.Option("--info", "-i", help=f"Hydra's --info [{'|'.join(INFO_MODES)}] (the first word after it; default all): "
                 "config search path, defaults list and tree, composed config; then exit."),
]
Force = Annotated[bool, typer.Option("--force", help="Redo stages even when their inputs are unchanged.")]
FailUnder = Annotated[
    Optional[list[str]],
    typer.Option("--fail-under", help="KEY=VALUE: exit 1 when a figure is below VALUE (repeatable).", show_default=False),
]


def _version(value: bool) -> None:
    if value:
        from dynrec_cli.version import version

        typer.echo(f"dynrec {version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", help="Print dynrec's version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Train, run and evaluate recommenders that follow users' changing interests."""


def _hydra_flags(overrides: list[str], cfg: str | None, resolve: bool, package: str | None, info: bool) -> tuple[list[str], list[str]]:
    """(overrides, Hydra's flags): `--info defaults` takes its mode from the first word, as Hydra does."""
    if cfg is not None and cfg not in CFG_MODES:
        raise typer.BadParameter(f"{cfg}: choose one of {', '.join(CFG_MODES)}", param_hint="--cfg")
    mode = overrides[0] if info and overrides and overrides[0] in INFO_MODES else None
    rest = overrides[1:] if mode else overrides
    return rest, hydra_flags(cfg, resolve, package, (mode or "all") if info else None)


def _command(verb: str, doc: str) -> None:
    @app.command(verb, help=doc)
    def command(
        overrides: Overrides = None,
        config_dir: ConfigDir = None,
        multirun: Multirun = False,
        print_config: PrintConfig = False,
        force: Force = False,
        cfg: Cfg = None,
        resolve: Resolve = False,
        package: Package = None,
        info: Info = False,
    ) -> None:
        rest, flags = _hydra_flags(overrides or [], cfg, resolve, package, info)
        verbs.run_verb(verb, rest, config_dir, multirun, print_config, force, hydra_flags=flags)


_command("train", "Run every stage in order, skipping those whose inputs and config are unchanged.")
_command("prepare", "Read a behaviour log and catalogue, clean, filter, split; write Parquet tables.")
_command(
    "pretrain",
    "Load the language model and encode item text (`encoder=`). ID-only models (pop, sasrec, "
    "gru4rec) need no language model: the stage records that and passes.",
)
_command("finetune", "Train the model (`model=`; the adapter for language-model models) with early stopping.")
_command(
    "capture",
    "Compute each user's interest from their history; with `capture.events=FILE` apply new events "
    "and with `capture.items=FILE` add items from their text, incrementally, to the run's interest "
    "store (docs/capture.md). Needs a trained `run_dir=`.",
)
_command("rank", "Write the top-K list per user, excluding what they have seen.")


@app.command("serve", help="Serve a trained `run_dir=` over HTTP: events in, top-K out, from the live interest store (docs/serving.md; extra `serve`).")
def serve(overrides: Overrides = None, config_dir: ConfigDir = None, print_config: PrintConfig = False) -> None:
    from dynrec_cli.cli.serve_cmd import run_serve

    run_serve(overrides or [], config_dir, print_config)


@app.command("forget", help="Forget `user=ID` of a trained `run_dir=`: out of its interest store, snapshots and journal; left out of the next train.")
def forget(overrides: Overrides = None, config_dir: ConfigDir = None) -> None:
    from dynrec_cli.cli.serve_cmd import run_forget

    run_forget(overrides or [], config_dir)


@app.command("evaluate", help="Full-ranking metrics of a run; gates CI with --fail-under.")
def evaluate(
    overrides: Overrides = None,
    config_dir: ConfigDir = None,
    multirun: Multirun = False,
    print_config: PrintConfig = False,
    force: Force = False,
    fail_under: FailUnder = None,
    baseline: Annotated[
        Optional[Path], typer.Option("--baseline", help="A run folder to compare with (same split); see --max-drop.")
    ] = None,
    max_drop: Annotated[
        Optional[list[str]],
        typer.Option("--max-drop", help="KEY=5% or KEY=0.01: exit 1 when the figure drops significantly more than this below --baseline (repeatable).", show_default=False),
    ] = None,
    cfg: Cfg = None,
    resolve: Resolve = False,
    package: Package = None,
    info: Info = False,
) -> None:
    rest, flags = _hydra_flags(overrides or [], cfg, resolve, package, info)
    verbs.run_verb("evaluate", rest, config_dir, multirun, print_config, force, fail_under or [], baseline, max_drop or [],
                   hydra_flags=flags)


@app.command("compare", help="Runs side by side with paired differences (bootstrap interval, p-value) per metric and segment.")
def compare(
    runs: Annotated[list[str], typer.Argument(help="Run folders (the first is the reference), then key=value overrides of eval.compare.*.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for compare.md/compare.csv (default: the current folder).")] = None,
    allow_different_splits: Annotated[
        bool, typer.Option("--allow-different-splits", help="Compare runs whose prepared data differ (pairs the shared users).")
    ] = False,
) -> None:
    from dynrec_cli.cli.compare_cmd import run_compare

    run_compare(runs, out, allow_different_splits)


@config_app.command("show", help="Print the composed config of a verb and where each group option came from.")
def config_show(
    overrides: Overrides = None,
    config_dir: ConfigDir = None,
    verb: Annotated[str, typer.Option("--verb", help="Which command's config.")] = "train",
) -> None:
    verbs.show_config(verb, overrides or [], config_dir)
