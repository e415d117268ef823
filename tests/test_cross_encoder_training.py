"""The cross-encoder's training data and batches: batched by length (evals/train_cross_encoder.py
--bucket), every training pair is still seen exactly once an epoch and a batch pads little; a
swapped-name negative (evals/cross_encoder_build.py swap) names someone the sentence does not."""

from __future__ import annotations

import sys

import numpy as np

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "evals"))
from cross_encoder_build import article_names, swapped_question  # noqa: E402
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


ARTICLE = """Harbour Rovers beat Lindmoor City 3-1 on Saturday.

The winner came from Hannah Okafor in the 78th minute, and Rovers manager Gareth Pryce said the
title race was open. Lindmoor City coach Ana Novak blamed the pitch. In Bristol, fans of Rovers
cheered."""


def test_article_names_are_capitalised_runs_seen_inside_a_sentence():
    names = article_names(ARTICLE)
    assert {"Hannah Okafor", "Gareth Pryce", "Ana Novak", "Lindmoor City", "Rovers"} <= set(names)
    # a run that opens a sentence is not taken, even where a name follows its first word ("In
    # Bristol"): a few names are missed, but no "The" or "In" is swapped into a question
    assert not {"The", "In", "Harbour Rovers", "Bristol", "In Bristol"} & set(names)


def test_a_swapped_name_question_names_someone_the_sentence_does_not():
    names = article_names(ARTICLE)
    sentence = ("The winner came from Hannah Okafor in the 78th minute, and Rovers manager Gareth "
                "Pryce said the title race was open.")
    rng = np.random.default_rng(0)
    swapped = swapped_question("Who is Gareth Pryce?", sentence, names, rng)
    assert swapped is not None and "Gareth Pryce" not in swapped
    other = swapped.removeprefix("Who is ").removesuffix("?")
    assert other in names and other.lower() not in sentence.lower()
    assert len(other.split()) == 2  # a name of the same length where there is one
    # typed in lower case, it stays lower case
    assert swapped_question("who is gareth pryce", sentence, names, rng).islower()
    # nothing to swap when the question and the sentence share no name
    assert swapped_question("who won the match", sentence, names, rng) is None
