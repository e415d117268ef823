"""Whether a noun names a physical thing, by its first (most frequent) WordNet 3.0 sense.

"How long is the corridor" asks for a length; "how long is the strike" may ask for a time. The
list (`physical_nouns.txt`, built by `evals/build_physical_nouns.py` from Debian's wordnet-base)
holds the single-word nouns whose first sense is an artifact, natural object, location, body
part, animal, plant, substance, shape or food.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_FILE = Path(__file__).with_name("physical_nouns.txt")
# Plural endings, tried only when the word itself is not listed ("walls", "ferries").
_PLURALS = (("ies", "y"), ("es", ""), ("s", ""))


@lru_cache(maxsize=1)
def _physical() -> frozenset[str]:
    with _FILE.open(encoding="utf-8") as lines:
        return frozenset(w for w in (line.strip() for line in lines) if w and not w.startswith("#"))


def is_physical(noun: str) -> bool:
    word, listed = noun.lower(), _physical()
    return word in listed or any(
        word.endswith(ending) and word[: -len(ending)] + base in listed for ending, base in _PLURALS)
