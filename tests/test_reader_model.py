"""The fitted reader as shipped: its trees score exactly as walking them one node at a time would,
and as scikit-learn itself scores the ensembles they were read from."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.model import ReaderModel, Trees, trees_to_arrays


def walk(trees: Trees, row: np.ndarray) -> float:
    """The plain way: from each root, left or right at every split, until a leaf."""
    total = trees.baseline
    for root in trees.roots:
        n = int(root)
        while trees.feature[n] >= 0:
            v = row[trees.feature[n]]
            left = trees.missing_left[n] if np.isnan(v) else v <= trees.threshold[n]
            n = int(trees.left[n] if left else trees.right[n])
        total += trees.value[n]
    return total


def rows_around(trees: Trees, n: int, seed: int) -> np.ndarray:
    """Rows whose values sit on, just under and just over the trees' own thresholds, and NaN."""
    rng = np.random.default_rng(seed)
    width = int(trees.feature.max()) + 1
    x = np.zeros((n, width))
    for f in range(width):
        cuts = trees.threshold[trees.feature == f]
        pool = np.concatenate([cuts, np.nextafter(cuts, np.inf), [0.0, 1.0, -1.0]])
        x[:, f] = rng.choice(pool, size=n)
    x[rng.random(x.shape) < 0.1] = np.nan
    return x


@pytest.mark.parametrize("which", ["sentence", "judge_trees"])
def test_the_shipped_trees_score_as_walking_them_does(which):
    trees = getattr(ReaderModel.load(), which)
    x = rows_around(trees, 300, seed=len(which))
    expected = np.array([walk(trees, row) for row in x])
    assert np.allclose(trees.raw(x), expected, rtol=0, atol=1e-9)
    assert np.allclose(trees.raw(x[:1]), expected[:1], rtol=0, atol=1e-9)


def test_trees_read_from_scikit_learn_score_as_scikit_learn_does():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) ** 2 > 0.5).astype(int)
    fitted = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0).fit(x, y)
    arrays = trees_to_arrays(fitted, "t")
    trees = Trees(*(arrays[f"t_{k}"] for k in ("feature", "threshold", "left", "right",
                                                "missing_left", "value", "roots")),
                  baseline=float(arrays["t_baseline"]))
    assert np.allclose(trees.raw(x), fitted.decision_function(x), atol=1e-9)
