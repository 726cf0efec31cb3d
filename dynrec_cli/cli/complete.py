"""Shell completion of overrides (`dynrec --install-completion`): config groups, their options and
every key of the verb's composed config, as Hydra's own completion offers them."""

from __future__ import annotations

import click

from dynrec_cli.cli import _hydra


def _keys(tree: dict, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves of a config as a plain dict."""
    out: list[str] = []
    for key, value in tree.items():
        out += _keys(value, f"{prefix}{key}.") if isinstance(value, dict) and value else [f"{prefix}{key}"]
    return out


def _groups() -> dict[str, list[str]]:
    """Each config group with its public options (`_common` and the like are building blocks)."""
    return {
        folder.name: sorted(f.stem for f in folder.glob("*.yaml") if not f.stem.startswith("_"))
        for folder in _hydra.CONF_DIR.iterdir() if folder.is_dir() and not folder.name.startswith("_")
    }


def complete_override(ctx: click.Context, incomplete: str) -> list[str]:
    """`mod` → model=, model.hidden=, …; `model=` → model=dynrec, model=sasrec, …

    bash splits words at `=` (COMP_WORDBREAKS) and completes only the text after it: `model=sa`
    arrives as `model`, `=`, `sa` (and `model=` as `model`, click dropping a lone `=`), and the
    answer is the option alone."""
    groups = _groups()
    before = list(ctx.params.get("overrides") or [])  # the words typed so far
    if len(before) >= 2 and before[-1] == "=":  # bash: `model=sa`
        return groups.get(before[-2], [])
    if not incomplete and before and before[-1] in groups:  # bash: `model=` (a bare group name is no override)
        return groups[before[-1]]
    key, eq, _ = incomplete.partition("=")
    if eq:
        return [f"{key}={option}" for option in groups.get(key, [])]
    verb = ctx.info_name if ctx.info_name in _hydra.VERBS else "train"
    from omegaconf import OmegaConf

    try:
        tree = OmegaConf.to_container(_hydra.compose_config(verb, []), resolve=False)
    except Exception:  # noqa: BLE001 - completion must never print a traceback into the shell
        return []
    words = [f"{group}=" for group in groups] + [f"{key}=" for key in _keys(tree)]
    return [word for word in words if word.startswith(incomplete)]
