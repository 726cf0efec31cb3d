"""The evaluation report: tables and plots, rendered as Markdown and as self-contained HTML.

report.html embeds its plots as base64 data URIs, so it can be mailed or archived alone;
report.md links them as PNG files beside it, so it reads in a terminal, a diff or a CI summary.
`metrics.json` stays the machine-readable source; the report only presents it.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dynrec_cli.evaluation import markdown as md
from dynrec_cli.evaluation import plots

ACCURACY = ("ndcg", "recall", "hit", "mrr", "map", "precision")
BEYOND = ("coverage", "gini", "ild", "novelty", "poprank")


@dataclass
class Section:
    title: str
    rows: list[list[str]] | None = None  # header row first
    image: bytes | None = None
    note: str = ""
    file: str = ""  # the image's PNG file name beside report.md


def split_tables(metrics: Mapping[str, float]) -> dict[str, dict[str, dict[int, float]]]:
    """{split: {metric: {k: value}}} of the top-level `split/metric@k` keys."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    for key, value in metrics.items():
        split, _, name = key.partition("/")
        metric, at, k = name.partition("@")
        if at and "/" not in name:
            out.setdefault(split, {}).setdefault(metric, {})[int(k)] = value
    return out


def segment_table(metrics: Mapping[str, float], split: str) -> dict[str, dict[str, float]]:
    """{segment: {"users": n, "ndcg@10": v, ...}} of the `split/segment/name` keys."""
    out: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == split:
            out.setdefault(parts[1], {})[parts[2]] = value
    return out


def merge_equal_curves(curves: Mapping[str, Mapping[int, float]]) -> dict[str, Mapping[int, float]]:
    """One curve per distinct set of points, named "a = b" where metrics coincide (recall and
    hit with one target per user; mrr and map too), so no line hides under another."""
    merged: dict[str, list[str]] = {}
    points: dict[str, Mapping[int, float]] = {}
    for name, curve in curves.items():
        same = next((first for first, other in points.items() if dict(other) == dict(curve)), None)
        if same is None:
            merged[name], points[name] = [name], curve
        else:
            merged[same].append(name)
    return {" = ".join(names): points[first] for first, names in merged.items()}


def segment_labels(users: Mapping[str, int]) -> list[str]:
    """The segment bars' labels: each segment with its user count, e.g. `cold (4)`."""
    return [f"{name} ({count})" for name, count in users.items()]


def _fmt(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"


def _metric_rows(table: Mapping[str, Mapping[int, float]]) -> list[list[str]]:
    ks = sorted({k for row in table.values() for k in row})
    order = [m for m in (*ACCURACY, *BEYOND) if m in table] + [m for m in table if m not in ACCURACY + BEYOND]
    return [["metric", *(f"@{k}" for k in ks)]] + [
        [m, *(_fmt(table[m][k]) if k in table[m] else "" for k in ks)] for m in order
    ]


def _split_sections(metrics: Mapping[str, float], tables: Mapping[str, Mapping[str, Mapping[int, float]]]) -> list[Section]:
    sections = []
    for split, table in tables.items():
        # replay figures are means over predicted events, not users (replay/events)
        count, unit = next(((metrics[f"{split}/{u}"], u) for u in ("users", "events") if f"{split}/{u}" in metrics), (0, "users"))
        sections.append(Section(f"{split}: metrics@K ({count:.0f} {unit})", rows=_metric_rows(table)))
        curves = merge_equal_curves({m: table[m] for m in ACCURACY if m in table})
        if curves:
            note = "; ".join(f"{name}: the same values at every K, drawn once" for name in curves if " = " in name)
            sections.append(Section(f"{split}: metric@K curves", image=plots.metric_at_k_curves(curves, f"{split} split"),
                                    note=note, file=f"{split}_curves.png"))
    return sections


def _segment_sections(metrics: Mapping[str, float], split: str, ks: Sequence[int]) -> list[Section]:
    segments = segment_table(metrics, split)
    if not segments:
        return []
    k = 10 if 10 in ks else ks[-1]
    reported = {m for row in segments.values() for m in row}  # a segment without users has no metric keys
    shown = [f"{m}@{k}" for m in ("ndcg", "recall", "ild", "novelty") if f"{m}@{k}" in reported]
    users = {name: int(row.get("users", 0)) for name, row in segments.items()}
    rows = [["segment", "users", *shown]] + [
        [name, str(users[name]), *(_fmt(row[m]) if m in row else "" for m in shown)] for name, row in segments.items()
    ]
    bars = {m: [row.get(m, float("nan")) for row in segments.values()] for m in shown[:2]}  # nan: no bar
    return [
        Section(f"{split}: segments", rows=rows, note="cold/warm targets, short/long histories, activity buckets, time periods"),
        Section(f"{split}: per-segment {', '.join(bars)}", image=plots.segment_bars(segment_labels(users), bars, f"{split} by segment (users)"),
                file=f"{split}_segments.png"),
    ]


def _training_sections(training: Mapping[str, Any], objective: str) -> list[Section]:
    """The learned α β γ δ gates, and DynRec's text-match weight as picked on the valid split."""
    sections = []
    gates = {n: v for n, v in (training.get("gates") or {}).items() if n in plots.GREEK}
    if gates:
        order = list(plots.GREEK)
        gates = {n: gates[n] for n in sorted(gates, key=order.index)}
        rows = [["gate", "value"]] + [[f"{plots.GREEK[n]} ({n})", f"{v:.4f}"] for n, v in gates.items()]
        sections.append(Section("learned gates α β γ δ", rows=rows, image=plots.gate_bars(gates), file="gates.png",
                                note="I(x) = α·SeqEnc + β·W·pool_recent; O(y) = γ·adapter(text) + δ·E_id"))
    match = training.get("text_match")
    if match:
        scored = next(((key, value) for key, value in match.items() if key not in ("weight", "standard_error")), None)
        picked = float(match["weight"])
        rows = [["weight", scored[0] if scored else "valid score", "picked"]] + [
            [f"{w:g}", f"{score:.4f}", "←" if float(w) == picked else ""] for w, score in (scored[1] if scored else [])
        ]
        sections.append(Section(f"text-match weight {picked:g} (picked on valid)", rows=rows,
                                note="not learned: after training, each weight was scored on the valid split; kept: the "
                                     "largest within model.text_match_noise paired standard errors of the best (0 unless "
                                     "the best beats it by 1%)"))
    return sections


def build_sections(
    metrics: Mapping[str, float],
    history: Sequence[Mapping[str, float]] | None,
    objective: str,
    training: Mapping[str, Any] | None,
) -> list[Section]:
    """Every table and plot of the report, in reading order.

    training: the finetune stage's figures (gates, text_match), or None."""
    tables = split_tables(metrics)
    sections = _split_sections(metrics, tables)
    split = "test" if "test" in tables else next(iter(tables), None)
    if split:
        sections += _segment_sections(metrics, split, sorted({k for row in tables[split].values() for k in row}))
    if history:
        sections.append(Section("training curves", image=plots.training_curves(history, objective), file="training.png",
                                note=f"{len(history)} epochs; objective {objective}"))
    return sections + _training_sections(training or {}, objective)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_markdown(title: str, sections: Sequence[Section], header: Mapping[str, Any]) -> str:
    """The report as Markdown; each plot is linked by its file name (written beside it)."""
    lines = [f"# {md.text(title)}", ""] + [f"- {k}: {md.code(v)}" for k, v in header.items()] + [""]
    for section in sections:
        lines += [f"## {md.text(section.title)}", ""]
        if section.note:
            lines += [md.text(section.note), ""]
        if section.rows:
            lines += md.table(section.rows) + [""]
        if section.image:
            lines += [f"![{md.text(section.title)}]({section.file})", ""]
    return "\n".join(lines)


_IMAGE_LINE = re.compile(r"^(!\[(?:[^\]\\]|\\.)*\]\()([^()/\s]+\.png\))$", re.MULTILINE)


def relink_images(markdown: str, prefix: str) -> str:
    """render_markdown's output with its plot links moved under `prefix` (e.g. `evaluate/` for the
    copy of the report next to DIR/metrics.json)."""
    return _IMAGE_LINE.sub(lambda m: m.group(1) + prefix + m.group(2), markdown)


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}img{max-width:100%}"
)


def render_html(title: str, sections: Sequence[Section], header: Mapping[str, Any]) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{esc(title)}</h1><ul>"]
    parts += [f"<li>{esc(str(k))}: <code>{esc(str(v))}</code></li>" for k, v in header.items()]
    parts.append("</ul>")
    for section in sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        if section.note:
            parts.append(f"<p>{esc(section.note)}</p>")
        if section.rows:
            head, *body = section.rows
            parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in head) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in body]
            parts.append("</table>")
        if section.image:
            parts.append(f'<img alt="{esc(section.title)}" src="{_data_uri(section.image)}">')
    parts.append("</body></html>")
    return "\n".join(parts)
