"""Build assistant/answering/physical_nouns.txt: the single-word nouns whose first (most
frequent) WordNet 3.0 sense names a physical thing.

    apt-get download wordnet-base && dpkg -x wordnet-base_*.deb /tmp/wn
    .venv/bin/python evals/build_physical_nouns.py /tmp/wn/usr/share/wordnet

"Physical" is one of WordNet's lexicographer files for things with extent in space: artifact
(corridor, bridge, ship), object (river, reef, lake), location (route, coastline), body, animal,
plant, substance, shape, food. "How long is the corridor" asks for a length; "how long is the
strike" (first sense: an act) may ask for a duration, so only the first kind is listed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

PHYSICAL = {"artifact": 6, "animal": 5, "body": 8, "food": 13, "location": 15, "object": 17,
            "plant": 20, "shape": 25, "substance": 27}
OUT = Path(__file__).resolve().parents[1] / "assistant" / "answering" / "physical_nouns.txt"
HEADER = """\
# Single-word nouns whose first WordNet 3.0 sense is physical (evals/build_physical_nouns.py).
# WordNet's license, as Debian's wordnet-base states it:
# Permission to use, copy, modify and distribute this software and
# database and its documentation for any purpose and without fee or
# royalty is hereby granted, provided that you agree to comply with
# the following copyright notice and statements, including the disclaimer,
# and that the same appear on ALL copies of the software, database and
# documentation, including modifications that you make for internal
# use or for distribution.
#
# WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.
#
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON
# UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR
# IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON
# UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-
# ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
# OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT
# INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR
# OTHER RIGHTS.
#
# The name of Princeton University or Princeton may not be used in
# advertising or publicity pertaining to distribution of the software
# and/or database.  Title to copyright in this software, database and
# any associated documentation shall at all times remain with
# Princeton University and LICENSEE agrees to preserve same.
"""


def physical_nouns(wordnet: Path) -> list[str]:
    lexfile = {}
    for line in (wordnet / "data.noun").open(encoding="latin-1"):
        if not line.startswith("  "):
            offset, filenum = line.split()[:2]
            lexfile[offset] = int(filenum)
    keep = set(PHYSICAL.values())
    out = []
    for line in (wordnet / "index.noun").open(encoding="latin-1"):
        if line.startswith("  "):
            continue
        fields = line.split()
        lemma, pointers = fields[0], int(fields[3])
        first_sense = fields[4 + pointers + 2]
        if "_" not in lemma and lemma.isascii() and lexfile[first_sense] in keep:
            out.append(lemma)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wordnet", type=Path, help="folder holding WordNet's index.noun and data.noun")
    args = parser.parse_args()
    words = physical_nouns(args.wordnet)
    OUT.write_text(HEADER + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} nouns -> {OUT}")


if __name__ == "__main__":
    main()
