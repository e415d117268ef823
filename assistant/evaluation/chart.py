"""report.png: a grouped bar chart of the main rates for "all" and each tag."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import RATES


def write_chart(groups: dict[str, dict[str, Any]], path: str | Path) -> None:
    """One group of bars per entry of `groups` (name -> metrics dict), one bar per rate."""
    # Imported here so that registering the CLI command does not load matplotlib.
    import matplotlib

    matplotlib.use("Agg")  # reports are written on servers and in CI, where there is no display
    import matplotlib.pyplot as plt

    names = list(groups)
    width = 0.8 / len(RATES)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * len(names) + 3), 4.8), dpi=100)
    try:
        for i, (key, label, _) in enumerate(RATES):
            values = [groups[name].get(key) for name in names]
            # A metric with no denominator is left out rather than drawn as zero.
            heights = [math.nan if v is None else v for v in values]
            xs = [g + (i - (len(RATES) - 1) / 2) * width for g in range(len(names))]
            ax.bar(xs, heights, width, label=label)
            # Labels tell a real zero from a metric that had nothing to measure.
            for x, value in zip(xs, values, strict=True):
                ax.text(x, (value or 0) + 0.01, "n/a" if value is None else f"{value:.2f}",
                        ha="center", va="bottom", rotation=90, fontsize=6,
                        color="grey" if value is None else "black")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(
            [f"{name}\n(n={groups[name].get('n_questions', 0)})" for name in names])
        ax.set_ylim(0, 1.15)
        ax.set_ylabel("fraction")
        ax.set_title("Evaluation by tag")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
