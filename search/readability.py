"""Readability scores per language, so writers hear when an article is too hard for a newbie.

- English: Flesch reading ease (Flesch 1948): 206.835 - 1.015 * words/sentence - 84.6 * syllables/word.
  Higher is easier; 60-70 is plain English, below 50 is "fairly difficult".
- Swedish: LIX (Björnsson 1968): words/sentence + 100 * long words (> 6 letters)/words.
  Lower is easier; below 40 is easy, 40-50 newspaper text, above 50 hard.
- Russian: Flesch reading ease as adapted by I. V. Oborneva (2006) for Russian word and sentence
  lengths: 206.835 - 1.3 * words/sentence - 60.1 * syllables/word, where a Russian syllable is
  exactly one vowel letter. Same direction as English Flesch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
_RU_VOWELS = set("аеёиоуыэюяАЕЁИОУЫЭЮЯ")
_EN_VOWEL_GROUP = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class Readability:
    """A score with the name of its formula and whether higher means easier."""

    formula: str
    score: float
    higher_is_easier: bool
    words: int
    sentences: int


def split_sentences(blocks: Iterable[str]) -> list[str]:
    """Sentences, treating each block (paragraph, list item, heading) as ending one."""
    sentences: list[str] = []
    for block in blocks:
        for part in _SENTENCE_END.split(block):
            if _WORD.search(part):
                sentences.append(part.strip())
    return sentences


def english_syllables(word: str) -> int:
    """Vowel groups, minus a silent final 'e' (the usual heuristic; close enough for averages)."""
    word = word.lower().replace("’", "'")
    count = len(_EN_VOWEL_GROUP.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    if word.endswith("ed") and not word.endswith(("ted", "ded")) and count > 1:
        count -= 1
    return max(1, count)


def russian_syllables(word: str) -> int:
    return max(1, sum(1 for ch in word if ch in _RU_VOWELS))


def score_readability(lang: str, blocks: Iterable[str]) -> Readability | None:
    """The language's readability score for text blocks, or None if there is no formula or text."""
    sentences = split_sentences(blocks)
    words = [w for s in sentences for w in _WORD.findall(s)]
    if not words or not sentences:
        return None
    words_per_sentence = len(words) / len(sentences)
    if lang == "en":
        syllables = sum(english_syllables(w) for w in words) / len(words)
        score = 206.835 - 1.015 * words_per_sentence - 84.6 * syllables
        return Readability("Flesch reading ease", round(score, 1), True, len(words), len(sentences))
    if lang == "sv":
        long_words = sum(1 for w in words if len(w) > 6) / len(words)
        score = words_per_sentence + 100 * long_words
        return Readability("LIX", round(score, 1), False, len(words), len(sentences))
    if lang == "ru":
        syllables = sum(russian_syllables(w) for w in words) / len(words)
        score = 206.835 - 1.3 * words_per_sentence - 60.1 * syllables
        return Readability("Flesch reading ease (Oborneva's Russian adaptation)", round(score, 1),
                           True, len(words), len(sentences))
    return None
