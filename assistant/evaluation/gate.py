"""Thresholds that turn a run into a pass/fail gate for CI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.evaluation.errors import EvalError


@dataclass(frozen=True)
class Threshold:
    """A bound on one metric: `metric >= bound`, or `metric <= bound` when `upper`."""

    flag: str
    metric: str
    bound: float
    upper: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "metric": self.metric, "bound": self.bound,
                "upper": self.upper}


# flag -> (metric, is an upper bound)
FLAGS: dict[str, tuple[str, bool]] = {
    "--min-answer": ("answer_accuracy", False),
    "--min-cite": ("citation_hit", False),
    "--min-precision": ("citation_precision", False),
    "--min-abstain": ("abstention_rate", False),
    "--max-false-abstain": ("false_abstention_rate", True),
    # how well confidence ranks answerable above unanswerable questions, whatever the threshold
    "--min-auc": ("answerable_auc", False),
}


def parse_threshold(flag: str, raw: str) -> Threshold:
    """A threshold from its flag and the text given for it; EvalError unless a 0..1 fraction."""
    metric, upper = FLAGS[flag]
    try:
        bound = float(raw)
    except ValueError:
        bound = float("nan")
    if not 0.0 <= bound <= 1.0:  # also rejects nan
        raise EvalError(f"{flag} must be a fraction between 0 and 1, got '{raw}'.")
    return Threshold(flag, metric, bound, upper)


def failures(metrics: dict[str, Any], thresholds: list[Threshold]) -> list[str]:
    """One line per threshold the metrics miss; a metric that could not be measured misses."""
    missed = []
    for t in thresholds:
        value = metrics.get(t.metric)
        if value is None:
            missed.append(f"{t.flag} {t.bound:g}: {t.metric} could not be measured "
                          "(no questions of that kind).")
        elif (value > t.bound) if t.upper else (value < t.bound):
            relation = "above the maximum" if t.upper else "below the minimum"
            missed.append(f"{t.flag} {t.bound:g}: {t.metric} is {value:.3f}, {relation}.")
    return missed
