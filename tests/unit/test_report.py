"""The report renders every section it has data for: curves, segments, training, gates, text match."""

from __future__ import annotations

import re

from dynrec_cli.evaluation import markdown as md
from dynrec_cli.evaluation.report import (
    build_sections, merge_equal_curves, relink_images, render_html, render_markdown, segment_labels,
)

METRICS = {
    "test/ndcg@5": 0.1, "test/ndcg@10": 0.12, "test/recall@5": 0.2, "test/recall@10": 0.3, "test/users": 50.0,
    "test/gini@10": 0.8, "test/cold/users": 5.0, "test/cold/ndcg@10": 0.01, "test/cold/recall@10": 0.02,
    "test/warm/users": 45.0, "test/warm/ndcg@10": 0.13, "test/warm/recall@10": 0.33,
}
HISTORY = [{"epoch": 1, "loss": 7.0, "valid/ndcg@10": 0.05}, {"epoch": 2, "loss": 6.5, "valid/ndcg@10": 0.07}]
GATES = {"alpha": 0.9, "beta": 0.3, "gamma": 1.1, "delta": 0.7}


def test_every_section_with_data_is_rendered() -> None:
    sections = build_sections(METRICS, HISTORY, "valid/ndcg@10", {"gates": GATES})
    titles = [s.title for s in sections]
    assert titles == [
        "test: metrics@K (50 users)", "test: metric@K curves", "test: segments", "test: per-segment ndcg@10, recall@10",
        "training curves", "learned gates α β γ δ",
    ]
    html = render_html("r", sections, {"run": "x"})
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4
    assert "<td>γ (gamma)</td><td>1.1000</td>" in html and "<td>gini</td>" in html
    markdown = render_markdown("r", sections, {"run": "x"})
    assert "| cold | 5 | 0.0100 | 0.0200 |" in markdown and "base64" not in markdown
    links = re.findall(r"^!\[.*\]\((.+)\)$", markdown, re.MULTILINE)
    assert links == ["test_curves.png", "test_segments.png", "training.png", "gates.png"]
    assert [s.file for s in sections if s.image] == links


def test_the_copy_next_to_metrics_links_into_the_stage_folder() -> None:
    markdown = render_markdown("r", build_sections(METRICS, HISTORY, "valid/ndcg@10", None), {"run": "x"})
    moved = relink_images(markdown, "evaluate/")
    assert "](evaluate/test_curves.png)" in moved and "](evaluate/training.png)" in moved
    assert moved.replace("evaluate/", "") == markdown


def test_sections_without_training_or_gates() -> None:
    titles = [s.title for s in build_sections(METRICS, None, "valid/ndcg@10", None)]
    assert "training curves" not in titles and not any("gates" in t for t in titles)


def test_replay_tables_count_events_not_users() -> None:
    replay = {"replay/ndcg@10": 0.1, "replay/recall@10": 0.2, "replay/events": 67.0, "frozen/ndcg@10": 0.05, "frozen/events": 67.0}
    titles = [s.title for s in build_sections(replay, None, "valid/ndcg@10", None)]
    assert "replay: metrics@K (67 events)" in titles and "frozen: metrics@K (67 events)" in titles


def test_coinciding_curves_are_drawn_once_and_named_together() -> None:
    one_target = {"ndcg": {5: 0.1, 10: 0.12}, "recall": {5: 0.2, 10: 0.3}, "hit": {5: 0.2, 10: 0.3}, "mrr": {5: 0.05, 10: 0.06},
                  "map": {5: 0.05, 10: 0.06}}
    assert list(merge_equal_curves(one_target)) == ["ndcg", "recall = hit", "mrr = map"]
    several = {"recall": {5: 0.2, 10: 0.3}, "hit": {5: 0.25, 10: 0.3}}  # more than one target: hit >= recall
    assert list(merge_equal_curves(several)) == ["recall", "hit"]
    metrics = {f"test/{m}@{k}": v for m, curve in one_target.items() for k, v in curve.items()} | {"test/users": 9.0}
    curves = next(s for s in build_sections(metrics, None, "valid/ndcg@10", None) if s.title == "test: metric@K curves")
    assert "recall = hit" in curves.note


def test_text_match_weight_is_shown_as_picked_on_valid_not_as_a_gate() -> None:
    training = {"gates": {**GATES, "text_match": 4.0},
                "text_match": {"weight": 4.0, "valid/ndcg@10": [[0.0, 0.05], [2.0, 0.06], [4.0, 0.07]]}}
    sections = build_sections(METRICS, None, "valid/ndcg@10", training)
    gates = next(s for s in sections if s.title.startswith("learned gates"))
    assert [row[0] for row in gates.rows[1:]] == ["α (alpha)", "β (beta)", "γ (gamma)", "δ (delta)"]
    match = next(s for s in sections if s.title.startswith("text-match"))
    assert match.title == "text-match weight 4 (picked on valid)" and "not learned" in match.note
    assert match.rows == [["weight", "valid/ndcg@10", "picked"], ["0", "0.0500", ""], ["2", "0.0600", ""], ["4", "0.0700", "←"]]


def test_segment_bars_are_labelled_with_their_user_counts() -> None:
    assert segment_labels({"cold": 5, "warm": 45, "short": 0}) == ["cold (5)", "warm (45)", "short (0)"]


def test_names_a_user_chose_are_escaped_in_markdown() -> None:
    name = "*new* [best](http://x) <script> `tick` | _a_ # 1"
    markdown = render_markdown(f"dynrec evaluation: {name}", [], {"run": f"runs/{name}"})
    heading = markdown.splitlines()[0]
    assert heading == r"# dynrec evaluation: \*new\* \[best\](http://x) \<script\> \`tick\` \| \_a\_ \# 1"
    assert "- run: ``runs/*new* [best](http://x) <script> `tick` | _a_ # 1``" in markdown
    assert md.code("`edge`") == "`` `edge` ``" and md.text("two\nlines") == "two lines"
