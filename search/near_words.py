"""The word of a fixed vocabulary that a typed word stands for, one slip of the keys away.

Shared by loanword matching (таймер read as "timer") and by the knowledge base's vocabulary (a
misspelled "pasword" is the articles' "password"): both compare a word against thousands, on
every question, so the vocabulary is grouped by first letter and length: a slip or a borrowing
keeps its first sound, and only words of about its own length can be one edit away.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

# Edits allowed, as a share of the longer word's length: one in six letters (воллет = wallet,
# таймер = timer; not one in five: токен is not "taken"); below MIN_FUZZY_LENGTH letters only
# exact matches count, since a short word is one edit away from many others.
MAX_DISTANCE = 0.19
MIN_FUZZY_LENGTH = 5


class NearWords:
    """Finds the nearest word of a vocabulary within MAX_DISTANCE edits per letter."""

    def __init__(self, vocabulary: Iterable[str]):
        self._groups: dict[tuple[str, int], list[str]] = {}
        for word in sorted(set(vocabulary)):
            self._groups.setdefault((word[0], len(word)), []).append(word)

    def nearest(self, word: str) -> tuple[float, str] | None:
        """The closest word (its normalized edit distance, and the word) sharing `word`'s
        first letter, or None when none is close enough or `word` is too short to tell."""
        if len(word) < MIN_FUZZY_LENGTH:
            return None
        slack = int(len(word) * MAX_DISTANCE) + 1
        pool = [candidate for length in range(len(word) - slack, len(word) + slack + 1)
                for candidate in self._groups.get((word[0], length), ())]
        if not pool:
            return None
        found = process.extractOne(word, pool, scorer=Levenshtein.normalized_distance,
                                   score_cutoff=MAX_DISTANCE)
        return (float(found[1]), found[0]) if found is not None else None
