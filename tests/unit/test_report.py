"""The report renders every section it has data for: curves, segments, training, gates."""

from __future__ import annotations

import re

from dynrec_cli.evaluation.report import build_sections, render_html, render_markdown

METRICS = {
    "test/ndcg@5": 0.1, "test/ndcg@10": 0.12, "test/recall@5": 0.2, "test/recall@10": 0.3, "test/users": 50.0,
    "test/gini@10": 0.8, "test/cold/users": 5.0, "test/cold/ndcg@10": 0.01, "test/cold/recall@10": 0.02,
    "test/warm/users": 45.0, "test/warm/ndcg@10": 0.13, "test/warm/recall@10": 0.33,
}
HISTORY = [{"epoch": 1, "loss": 7.0, "valid/ndcg@10": 0.05}, {"epoch": 2, "loss": 6.5, "valid/ndcg@10": 0.07}]
GATES = {"alpha": 0.9, "beta": 0.3, "gamma": 1.1, "delta": 0.7}


def test_every_section_with_data_is_rendered() -> None:
    sections = build_sections(METRICS, HISTORY, "valid/ndcg@10", GATES)
    titles = [s.title for s in sections]
    assert titles == [
        "test: metrics@K (50 users)", "test: metric@K curves", "test: segments", "test: per-segment ndcg@10, recall@10",
        "training curves", "learned gates α β γ δ",
    ]
    html = render_html("r", sections, {"run": "x"})
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4
    assert "<td>γ (gamma)</td><td>1.1000</td>" in html and "<td>gini</td>" in html
    markdown = render_markdown("r", sections, {"run": "x"})
    assert "| cold | 5 | 0.0100 | 0.0200 |" in markdown and markdown.count("](data:image/png;base64,") == 4


def test_sections_without_training_or_gates() -> None:
    titles = [s.title for s in build_sections(METRICS, None, "valid/ndcg@10", None)]
    assert "training curves" not in titles and not any("gates" in t for t in titles)


def test_replay_tables_count_events_not_users() -> None:
    replay = {"replay/ndcg@10": 0.1, "replay/recall@10": 0.2, "replay/events": 67.0, "frozen/ndcg@10": 0.05, "frozen/events": 67.0}
    titles = [s.title for s in build_sections(replay, None, "valid/ndcg@10", None)]
    assert "replay: metrics@K (67 events)" in titles and "frozen: metrics@K (67 events)" in titles
