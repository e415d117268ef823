"""The cross-encoder's training batches (evals/train_cross_encoder.py --bucket): batched by
length, every training pair is still seen exactly once an epoch, and a batch pads little."""

from __future__ import annotations

import sys

import numpy as np

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "evals"))
from train_cross_encoder import length_batches  # noqa: E402


def test_length_batches_keep_every_row_once_and_pad_less_than_random_batches():
    rng = np.random.default_rng(1)
    lengths = rng.integers(12, 160, size=5000)
    rows = rng.permutation(5000)[:4321]  # an epoch's shuffled rows: not every index, not in order
    batches = length_batches(rows, 32, lengths, pool=10)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == sorted(rows.tolist())
    assert all(1 <= len(b) <= 32 for b in batches)

    def padding(bs):
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in bs)

    unsorted = [rows[a:a + 32] for a in range(0, len(rows), 32)]
    assert padding(batches) < padding(unsorted) / 4
    # the batches do not come shortest first: lengths are shuffled across the epoch
    firsts = [int(lengths[b].min()) for b in batches[:20]]
    assert firsts != sorted(firsts)
