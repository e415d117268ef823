"""The fitted reader: P(a sentence answers a question part) and P(the part is answerable).

Both are small gradient-boosted tree ensembles (scikit-learn's HistGradientBoostingClassifier)
fitted by evals/train_reader.py and saved as plain arrays in reader_model.npz beside this file,
then calibrated on the development split; prediction here is numpy only, so answering never
imports scikit-learn. The abstention threshold and the second-citation ratio are stored with
them. See READER-MODEL.md beside this file for what it was trained on and how well it does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .features import FEATURES

MODEL_FILE = Path(__file__).with_name("reader_model.npz")
FORMAT = 1
# Columns of the judge's input: aggregates of one part's candidates.
JUDGE_FEATURES = ("p_best", "p_second", "p_gap", "p_sum", "n_candidates") + tuple(
    f"best_{name}" for name in FEATURES)


@dataclass(frozen=True)
class Trees:
    """A fitted ensemble of binary trees over float features, as flat arrays."""

    feature: np.ndarray    # per node: the column split on (-1 at a leaf)
    threshold: np.ndarray  # per node: go left when x <= threshold
    left: np.ndarray       # per node: index of the left child
    right: np.ndarray
    missing_left: np.ndarray  # per node: where a NaN goes
    value: np.ndarray      # per node: the leaf's raw score
    roots: np.ndarray      # per tree: index of its root node
    baseline: float

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The ensemble's log-odds for each row of x, all trees at once and with no walk
        (QuickScorer, Lucchese et al. 2015): every split is decided for every row; each split
        that sends a row right rules out the leaves left of it (a bit mask per split); the
        leftmost leaf not ruled out is where the row lands in that tree."""
        split = self._splits
        values = x[:, split.feature]
        right = (values > split.threshold) | (np.isnan(values) & ~split.missing_left)
        kept = np.bitwise_and.reduceat(np.where(right, split.keeps, _ALL), split.tree_start, axis=1)
        leaf = np.log2((kept & (~kept + np.uint64(1))).astype(np.float64)).astype(np.int64)
        return self.baseline + split.leaf_value[np.arange(len(self.roots)), leaf].sum(axis=1)

    @cached_property
    def _splits(self) -> _Splits:
        feature, threshold, missing_left, keeps, tree_start = [], [], [], [], []
        leaf_value = np.zeros((len(self.roots), 64))
        for t, root in enumerate(self.roots):
            tree_start.append(len(feature))
            leaves, below = self._leaves_in_order(int(root))
            if len(leaves) > 64:
                raise ValueError("a tree with more than 64 leaves cannot be scored by bit masks")
            for pos, n in enumerate(leaves):
                leaf_value[t, pos] = self.value[n]
            for n, ruled_out in sorted(below.items()):
                feature.append(self.feature[n])
                threshold.append(self.threshold[n])
                missing_left.append(self.missing_left[n])
                keeps.append(int(_ALL) & ~sum(1 << p for p in ruled_out))
            if not below:  # a lone leaf: one split that never rules anything out
                feature.append(0)
                threshold.append(np.inf)
                missing_left.append(True)
                keeps.append(int(_ALL))
        return _Splits(feature=np.asarray(feature, np.int64), threshold=np.asarray(threshold),
                       missing_left=np.asarray(missing_left, bool),
                       keeps=np.asarray(keeps, np.uint64), tree_start=np.asarray(tree_start),
                       leaf_value=leaf_value)

    def _leaves_in_order(self, root: int) -> tuple[list[int], dict[int, list[int]]]:
        """A tree's leaves left to right, and per split the positions of the leaves under its
        left child (those a row going right can no longer reach)."""
        leaves: list[int] = []
        below: dict[int, list[int]] = {}

        def visit(n: int) -> list[int]:
            if self.feature[n] < 0:
                leaves.append(n)
                return [len(leaves) - 1]
            below[n] = visit(int(self.left[n]))
            return below[n] + visit(int(self.right[n]))

        visit(root)
        return leaves, below


_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class _Splits:
    """Every tree's splits in one row, tree by tree, for scoring without walking."""

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    keeps: np.ndarray       # per split: the leaves of its tree still possible if a row goes right
    tree_start: np.ndarray  # per tree: where its splits begin
    leaf_value: np.ndarray  # per tree and leaf position (left to right): the leaf's raw score


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of a raw log-odds score, fitted on the development split."""

    a: float
    b: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * raw + self.b)))


class ReaderModel:
    """Loads the saved ensembles; scores candidates and judges answerability."""

    def __init__(self, sentence: Trees, judge: Trees, judge_calibration: Calibration,
                 meta: dict):
        self.sentence = sentence
        self.judge_trees = judge
        self.judge_calibration = judge_calibration
        self.meta = meta
        self.threshold = float(meta["threshold"])
        self.second_ratio = float(meta["second_ratio"])
        self.version = str(meta["version"])

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> ReaderModel:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT or tuple(meta["features"]) != FEATURES:
                raise ValueError(f"{path.name} was fitted on other features; run "
                                 "evals/train_reader.py fit")
            trees = {name: Trees(*(data[f"{name}_{f}"] for f in (
                "feature", "threshold", "left", "right", "missing_left", "value", "roots")),
                baseline=float(data[f"{name}_baseline"])) for name in ("sentence", "judge")}
        return cls(trees["sentence"], trees["judge"], Calibration(*meta["judge_calibration"]), meta)

    def sentence_probabilities(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.sentence.raw(features.astype(np.float64))))

    def answerable(self, probabilities: np.ndarray, features: np.ndarray) -> float:
        """Calibrated P(the part's answer is among these candidates)."""
        row = judge_row(probabilities, features)[None, :]
        return float(self.judge_calibration(self.judge_trees.raw(row))[0])


def judge_row(probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The judge's input for one part: how the best candidates score, and the best one's features."""
    if len(probabilities) == 0:
        return np.zeros(len(JUDGE_FEATURES), np.float64)
    order = np.argsort(-probabilities)
    best = float(probabilities[order[0]])
    second = float(probabilities[order[1]]) if len(order) > 1 else 0.0
    head = [best, second, best - second, float(probabilities.sum()), float(len(probabilities))]
    return np.concatenate([np.asarray(head), features[order[0]].astype(np.float64)])


def trees_to_arrays(model, prefix: str) -> dict[str, np.ndarray]:
    """A fitted binary HistGradientBoostingClassifier as the flat arrays Trees reads."""
    feature, threshold, left, right, missing, value, roots = [], [], [], [], [], [], []
    offset = 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        roots.append(offset)
        leaf = nodes["is_leaf"].astype(bool)
        feature.append(np.where(leaf, -1, nodes["feature_idx"]).astype(np.int32))
        threshold.append(nodes["num_threshold"].astype(np.float64))
        left.append((nodes["left"] + offset).astype(np.int32))
        right.append((nodes["right"] + offset).astype(np.int32))
        missing.append(nodes["missing_go_to_left"].astype(bool))
        value.append(np.where(leaf, nodes["value"], 0.0).astype(np.float64))
        offset += len(nodes)
    baseline = float(np.ravel(model._baseline_prediction)[0])
    arrays = {"feature": np.concatenate(feature), "threshold": np.concatenate(threshold),
              "left": np.concatenate(left), "right": np.concatenate(right),
              "missing_left": np.concatenate(missing), "value": np.concatenate(value),
              "roots": np.asarray(roots, np.int32)}
    out = {f"{prefix}_{k}": v for k, v in arrays.items()}
    out[f"{prefix}_baseline"] = np.asarray(baseline)
    return out
