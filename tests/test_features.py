"""Each rule the answerer knows is one named feature; its cases live in tests/data/features.jsonl.

Removing or changing a rule is then a measurement (evals/train_reader.py refits the model and
reports what moved), and these cases say what each feature means.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answering import analysis
from assistant.answering.features import FEATURES, FeatureExtractor
from assistant.answering.query import Candidate, QueryPart
from assistant.documents import build_document
from assistant.index import ChunkRef, CorpusIndex
from tests.conftest import DATA

CASES = [json.loads(line) for line in (DATA / "features.jsonl").read_text().splitlines() if line]


def _features(question: str, sentence: str) -> dict[str, float]:
    doc = build_document("Council decides on the town budget", [sentence], source="case.txt")
    dim = 8
    vectors = np.ones((len(doc.sentences), dim), np.float32) / np.sqrt(dim)
    index = CorpusIndex([doc], vectors, [ChunkRef("c0", doc.doc_id, 0, len(doc.sentences) - 1)], dim)
    part = QueryPart(question, "", analysis.answer_type(question))
    target = 0 if sentence == "@title" else 1
    candidates = [Candidate(doc.sentences[target], 0)]
    FeatureExtractor(index).extract(part, vectors[0], candidates)
    return candidates[0].features


@pytest.mark.parametrize("case", CASES, ids=[c["rule"] + ": " + c["question"] for c in CASES])
def test_feature_case(case):
    if case["sentence"] == "@title":
        case = {**case, "sentence": "The council voted on Monday."}
        values = _features(case["question"], "@title")
    else:
        values = _features(case["question"], case["sentence"])
    assert case["feature"] in FEATURES
    if case.get("at_least"):
        assert values[case["feature"]] >= case["expected"]
    else:
        assert values[case["feature"]] == pytest.approx(case["expected"])


def test_every_rule_feature_has_a_case():
    """The features that encode a rule (not a plain similarity) each have at least one case."""
    rules = {"typed_fit", "typed_partly", "typed_none", "dimension_mismatch", "span_name_asked",
             "focus", "span_near_focus", "negation_mismatch", "span_terms_near", "is_title",
             "missing_named", "predicate"}
    assert rules <= {c["feature"] for c in CASES}
