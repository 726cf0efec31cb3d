"""The evaluation report: tables and plots, rendered as Markdown and as self-contained HTML.

Plots are PNGs embedded as base64 data URIs, so either file can be mailed or archived alone.
`metrics.json` stays the machine-readable source; the report only presents it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dynrec_cli.evaluation import plots

ACCURACY = ("ndcg", "recall", "hit", "mrr", "map", "precision")
BEYOND = ("coverage", "gini", "ild", "novelty", "poprank")


@dataclass
class Section:
    title: str
    rows: list[list[str]] | None = None  # header row first
    image: bytes | None = None
    note: str = ""


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


def _fmt(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"


def _metric_rows(table: Mapping[str, Mapping[int, float]]) -> list[list[str]]:
    ks = sorted({k for row in table.values() for k in row})
    order = [m for m in (*ACCURACY, *BEYOND) if m in table] + [m for m in table if m not in ACCURACY + BEYOND]
    return [["metric", *(f"@{k}" for k in ks)]] + [
        [m, *(_fmt(table[m][k]) if k in table[m] else "" for k in ks)] for m in order
    ]


def build_sections(
    metrics: Mapping[str, float],
    history: Sequence[Mapping[str, float]] | None,
    objective: str,
    gates: Mapping[str, float] | None,
) -> list[Section]:
    """Every table and plot of the report, in reading order."""
    sections: list[Section] = []
    tables = split_tables(metrics)
    for split, table in tables.items():
        # replay figures are means over predicted events, not users (replay/events)
        count, unit = next(((metrics[f"{split}/{u}"], u) for u in ("users", "events") if f"{split}/{u}" in metrics), (0, "users"))
        sections.append(Section(f"{split}: metrics@K ({count:.0f} {unit})", rows=_metric_rows(table)))
        curves = {m: table[m] for m in ACCURACY if m in table}
        if curves:
            sections.append(Section(f"{split}: metric@K curves", image=plots.metric_at_k_curves(curves, f"{split} split")))
    split = "test" if "test" in tables else next(iter(tables), None)
    segments = segment_table(metrics, split) if split else {}
    if segments:
        ks = sorted({k for row in tables[split].values() for k in row})
        k = 10 if 10 in ks else ks[-1]
        reported = {m for row in segments.values() for m in row}  # a segment without users has no metric keys
        shown = [f"{m}@{k}" for m in ("ndcg", "recall", "ild", "novelty") if f"{m}@{k}" in reported]
        rows = [["segment", "users", *shown]] + [
            [name, f"{row.get('users', 0):.0f}", *(_fmt(row[m]) if m in row else "" for m in shown)] for name, row in segments.items()
        ]
        sections.append(Section(f"{split}: segments", rows=rows, note="cold/warm targets, short/long histories, activity buckets, time periods"))
        bars = {m: [row.get(m, float("nan")) for row in segments.values()] for m in shown[:2]}  # nan: no bar
        sections.append(Section(f"{split}: per-segment {', '.join(bars)}", image=plots.segment_bars(list(segments), bars, f"{split} by segment")))
    if history:
        sections.append(Section("training curves", image=plots.training_curves(history, objective),
                                note=f"{len(history)} epochs; objective {objective}"))
    if gates:
        order = list(plots.GREEK)
        gates = {n: gates[n] for n in sorted(gates, key=lambda n: order.index(n) if n in order else len(order))}
        rows = [["gate", "value"]] + [[f"{plots.GREEK.get(n, n)} ({n})", f"{v:.4f}"] for n, v in gates.items()]
        sections.append(Section("learned gates α β γ δ", rows=rows, image=plots.gate_bars(gates),
                                note="I(x) = α·SeqEnc + β·W·pool_recent; O(y) = γ·adapter(text) + δ·E_id"))
    return sections


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_markdown(title: str, sections: Sequence[Section], header: Mapping[str, Any]) -> str:
    lines = [f"# {title}", ""] + [f"- {k}: `{v}`" for k, v in header.items()] + [""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        if section.rows:
            head, *body = section.rows
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(row) + " |" for row in body] + [""]
        if section.image:
            lines += [f"![{section.title}]({_data_uri(section.image)})", ""]
    return "\n".join(lines)


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
