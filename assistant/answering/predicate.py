"""The question's predicate: the verbs that say what happened ("who *founded* the brewery",
"when did the plant *open*"), found without a tagger, and compared with a sentence's words in
one form ("won" is "win", "held" is "hold").

A sentence can hold the question's names and a number of the right kind and still say another
thing happened to them; whether it holds the question's verb is the feature `predicate`, the
cheap form of spaCy's parser-based verb feature (cross-validated AUC 0.808 -> 0.814, at no
parsing cost: evals/experiments/2026-11-28-predicate.md).
"""

from __future__ import annotations

from ..text import QUESTION_WORDS, STOPWORDS, term_stem

# Irregular verbs: the base form, then its past forms. Regular ones ("killed") stem alike already.
_IRREGULAR_FORMS = """
win won|lose lost|hold held|build built|sell sold|buy bought|pay paid|say said|tell told|make made
take took taken|give gave given|become became|begin began begun|bring brought|come came
find found|get got gotten|go went gone|grow grew grown|keep kept|know knew known|lead led
leave left|lend lent|meet met|run ran|rise rose risen|see saw seen|send sent|shoot shot
spend spent|stand stood|strike struck stricken|teach taught|think thought|throw threw thrown
understand understood|write wrote written|fall fell fallen|fight fought|fly flew flown
drive drove driven|choose chose chosen|break broke broken|eat ate eaten|freeze froze frozen
hide hid hidden|hang hung|lay laid|mean meant|ring rang rung|sink sank sunk|seek sought
speak spoke spoken|steal stole stolen|swear swore sworn|tear tore torn|wear wore worn
wake woke woken|withdraw withdrew withdrawn|overtake overtook overtaken
undertake undertook undertaken|forbid forbade forbidden|speed sped|bear bore born borne
deal dealt|dig dug|feed fed|feel felt|flee fled|forget forgot forgotten|hear heard|light lit
shake shook shaken|stick stuck|sing sang sung|sit sat|sleep slept|swim swam swum|swing swung
wind wound|draw drew drawn|arise arose arisen|bind bound|catch caught|cling clung|creep crept
lie lay lain|oversee oversaw overseen|rebuild rebuilt|redo redid redone|rewrite rewrote rewritten
ride rode ridden|shrink shrank shrunk|slay slew slain|sting stung|strive strove striven
swell swollen|weave wove woven|weep wept|overcome overcame|outgrow outgrew outgrown
mislead misled|uphold upheld|withhold withheld|foresee foresaw foreseen|forecast forecast
spread spread|shed shed
"""
BASE_FORM = {form: line.split()[0]
             for line in _IRREGULAR_FORMS.replace("\n", "|").split("|") if line.strip()
             for form in line.split()[1:]}
# Past forms that are as often another word ("left wing", "bound for", "a lay person", "a
# wound"): a verb only where the question's shape says so, not wherever they stand.
_AMBIGUOUS = frozenset("left found bound lay lit wound".split())

_DID = frozenset("did does do".split())
_MODAL = frozenset("will would can could should may might".split())
_AUXILIARY = frozenset("is was are were be been being has have had".split()) | _DID | _MODAL
_DETERMINER = frozenset("the a an this that these those its his her their our".split())
PREPOSITIONS = frozenset("in on at to for from with about of by into over under after before "
                         "during than as".split())


def verb_stem(word: str) -> str:
    """The stem a verb is compared in: irregular past forms folded to their base first."""
    word = word.lower()
    return term_stem(BASE_FORM.get(word, word))


def question_verbs(words: list[str]) -> set[str]:
    """Stems of the question's verbs, from its words (in order, as written): a past form anywhere
    ("were killed", "was won"); the word after "who"/"what" ("who owns"); the word after a
    "which/how many" noun ("which company owns", "how many people live"); and after "did"/"will"
    its subject, the word that closes it ("when did the new plant open")."""
    low = [w.lower() for w in words]
    out: set[str] = set()

    def add(j: int) -> None:
        if j < len(low) and words[j].isalpha() and not words[j][0].isupper() and _plain(low[j]):
            out.add(verb_stem(low[j]))

    for i, w in enumerate(low):
        if not _plain(w) or (i and words[i][0].isupper()):
            continue
        if (len(w) > 4 and w.endswith(("ed", "ing"))) or (w in BASE_FORM and w not in _AMBIGUOUS):
            out.add(verb_stem(w))
    if len(low) < 2:
        return out
    if low[0] in ("who", "what") and low[1] not in _AUXILIARY:
        add(1)
    if low[0] in ("which", "what", "how") and len(low) > 2:
        j = 2 if low[0] == "how" else 1
        while j < len(low) and words[j][0].isupper():
            j += 1
        if j < len(low) and low[j] not in _AUXILIARY and low[j] not in PREPOSITIONS \
                and low[j] not in _DETERMINER:
            add(j + 1)
    for i, w in enumerate(low):
        if w not in _DID and w not in _MODAL:
            continue
        j = i + 1
        if w in _MODAL and i == 1 and low[0] in ("who", "what") and j < len(low) \
                and low[j] not in _DETERMINER:
            add(j)                                # "who will lead"
            break
        while j < len(low) and words[j][0].isupper():
            j += 1                                # a named subject: "did Jean Pickard join"
        k = j if j > i + 1 else j + 1             # otherwise the subject has a word at least
        while k + 1 < len(low) and not _closes(words, low, k + 1):
            k += 1
        add(k)
        break
    return out


def _plain(word: str) -> bool:
    return (word not in STOPWORDS and word not in _AUXILIARY and word not in QUESTION_WORDS
            and word not in _DETERMINER)


def _closes(words: list[str], low: list[str], k: int) -> bool:
    """Whether the word at k starts what follows a verb: an object's determiner, a preposition,
    a name or a number."""
    return (low[k] in _DETERMINER or low[k] in PREPOSITIONS or words[k][0].isupper()
            or words[k][0].isdigit())
