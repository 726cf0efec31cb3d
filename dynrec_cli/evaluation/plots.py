"""The report's figures as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ"}


def _png(fig) -> bytes:  # noqa: ANN001 - a matplotlib Figure
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _figure(width: float = 6.0, height: float = 3.6):  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def metric_at_k_curves(curves: Mapping[str, Mapping[int, float]], title: str) -> bytes:
    """One line per metric: value against K. curves: {"ndcg": {5: 0.1, 10: 0.12}, ...}."""
    fig, ax = _figure()
    for name, points in curves.items():
        ks = sorted(points)
        ax.plot(ks, [points[k] for k in ks], marker="o", label=name)
    ax.set_xlabel("K")
    ax.set_ylabel("value")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _png(fig)


def segment_bars(segments: Sequence[str], values: Mapping[str, Sequence[float]], title: str) -> bytes:
    """Grouped bars: one group per segment, one bar per metric. values: {"ndcg@10": [...], ...}."""
    fig, ax = _figure(max(6.0, 0.6 * len(segments) + 2))
    width = 0.8 / max(len(values), 1)
    for i, (name, heights) in enumerate(values.items()):
        ax.bar([x + i * width for x in range(len(segments))], heights, width=width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(segments))], list(segments), rotation=30, ha="right")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if values:  # an evaluation with no users has no bars to name
        ax.legend(fontsize="small")
    return _png(fig)


def training_curves(history: Sequence[Mapping[str, float]], objective: str) -> bytes:
    """Training loss (left axis) and the valid objective (right axis) per epoch."""
    fig, ax = _figure()
    epochs = [r["epoch"] for r in history]
    ax.plot(epochs, [r["loss"] for r in history], color="tab:blue", marker=".", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss", color="tab:blue")
    scored = [r for r in history if objective in r]
    if scored:
        right = ax.twinx()
        right.plot([r["epoch"] for r in scored], [r[objective] for r in scored], color="tab:orange", marker="o")
        right.set_ylabel(objective, color="tab:orange")
    ax.set_title("training")
    ax.grid(alpha=0.3)
    return _png(fig)


def gate_bars(gates: Mapping[str, float]) -> bytes:
    """The learned α β γ δ weights of model=dynrec."""
    fig, ax = _figure(4.5, 3.0)
    names = list(gates)
    ax.bar([GREEK.get(n, n) for n in names], [gates[n] for n in names], color="tab:green")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title("learned gates")
    return _png(fig)
