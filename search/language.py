"""Which language a customer wrote in, among the configured ones.

An explicit `lang` and the browser's Accept-Language are hints: a Swede on an English browser
writes Swedish, and the text itself is the better evidence when it is clear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

# Below this confidence, the text alone does not decide and a hint wins.
CLEAR_EVIDENCE = 0.90
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@dataclass(frozen=True)
class LanguageGuess:
    """The language chosen, how sure the text alone made us, and why."""

    lang: str
    confidence: float
    reason: str  # "text", "hint", "default"


def _iso(code: str) -> IsoCode639_1 | None:
    try:
        return IsoCode639_1.from_str(code.lower())
    except (ValueError, AttributeError):
        return None


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...]):  # type: ignore[no-untyped-def]
    known = [Language.from_iso_code_639_1(iso) for iso in map(_iso, languages) if iso is not None]
    if len(known) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*known).with_preloaded_language_models().build()


def load_detector(languages: Sequence[str]) -> None:
    """Build the detector for `languages` now: it takes seconds and about 100 MB, which a process
    should pay once at start (under gunicorn in the master, shared by every worker after the fork)
    rather than in its first customer's request."""
    _detector(tuple(languages))


def text_evidence(text: str, languages: Sequence[str]) -> tuple[str, float] | None:
    """(language, confidence) from the text alone, or None when it has no letters."""
    if len(_LETTERS.findall(text)) < 2:
        return None
    languages = tuple(languages)
    if len(languages) == 1:
        return languages[0], 1.0
    cyrillic = [lang for lang in languages if lang in ("ru", "uk", "bg", "sr", "be", "mk", "kk")]
    if len(cyrillic) == 1 and len(_CYRILLIC.findall(text)) >= len(_LETTERS.findall(text)) / 2:
        return cyrillic[0], 1.0  # the only configured Cyrillic-script language
    detector = _detector(languages)
    if detector is None:
        return None
    values = detector.compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def hinted_language(hints: Sequence[str], languages: Sequence[str]) -> str | None:
    """The first hint naming a configured language (`sv-SE` counts as `sv`); later hints never
    matter, so this is all of the hints that can change an answer."""
    for hint in hints:
        base = hint.lower().replace("_", "-").split("-")[0]
        if base in languages:
            return base
    return None


def fallback_order(lang: str, fallbacks: Sequence[str], languages: Sequence[str]) -> list[str]:
    """The languages to show an article in to a reader of `lang`, best first: their own, then
    the fallbacks (the language articles are written in first), then the others."""
    return [lang, *fallbacks, *(other for other in languages if other != lang)]


def identify_language(text: str, languages: Sequence[str], hints: Sequence[str] = (),
                      default: str | None = None) -> LanguageGuess:
    """Clear evidence from the text wins; otherwise the first configured hint; otherwise the guess."""
    evidence = text_evidence(text, languages)
    if evidence and evidence[1] >= CLEAR_EVIDENCE:
        return LanguageGuess(evidence[0], evidence[1], "text")
    base = hinted_language(hints, languages)
    if base is not None:
        return LanguageGuess(base, evidence[1] if evidence and evidence[0] == base else 0.0, "hint")
    if evidence:
        return LanguageGuess(evidence[0], evidence[1], "text")
    return LanguageGuess(default or languages[0], 0.0, "default")
