"""Bilingual lexicons: which English words a Swedish or Russian word (lemma) can mean, and how likely.

A lexicon is a table of `source lemma -> English term -> weight`, one per source language. On disk
the engine reads a directory of UTF-8 TSV files named `<src>-en.<name>.tsv`, one
`source<TAB>english<TAB>weight` row per pair (`kb dict import` writes them from open dictionaries;
the knowledge base's own lexicon is learned at index time and kept with the index). Weights are
only comparable within one file, so each file is normalized per source word before merging.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from search.text import normalize, words

FILE_PATTERN = re.compile(r"^(?P<src>[a-z]{2,3})-en\.(?P<name>[\w.-]+)\.tsv$")
TARGET_LANGUAGE = "en"


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and line."""


def source_key(word: str) -> str:
    """How source words are looked up: normalized, stress marks dropped (Russian dictionaries
    mark stress with U+0301, customers never type it)."""
    return normalize(word).replace("\u0301", "").strip()


# Source words a language needs for its questions to count as read by a dictionary (the open
# dictionaries hold tens of thousands; a list of product terms a few dozen).
MIN_DICTIONARY_ENTRIES = 1000


@dataclass
class Lexicon:
    """Source-language lemma -> {English term: weight}, for each source language."""

    entries: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def languages(self) -> list[str]:
        return sorted(self.entries)

    def senses(self, lang: str, lemma: str) -> Mapping[str, float]:
        """English terms for `lemma`, unranked (ranking needs the target vocabulary: see
        QueryTranslator)."""
        return self.entries.get(lang, {}).get(lemma, {})

    def __contains__(self, item: tuple[str, str]) -> bool:
        lang, lemma = item
        return lemma in self.entries.get(lang, {})

    def words_in(self, source_languages: Iterable[str]) -> set[str]:
        """Every English word it translates into, and every word of the given source languages."""
        wanted = set(source_languages)
        found: set[str] = set()
        for lang, table in self.entries.items():
            for source, senses in table.items():
                if lang in wanted:
                    found.update(words(source))
                for sense in senses:
                    found.update(words(sense))
        return found

    def dictionary_languages(self) -> list[str]:
        """The source languages it holds a dictionary of, not a handful of words."""
        return [lang for lang in self.languages() if self.size(lang) >= MIN_DICTIONARY_ENTRIES]

    def size(self, lang: str | None = None) -> int:
        langs = [lang] if lang else self.entries
        return sum(len(self.entries.get(code, {})) for code in langs)

    def add(self, lang: str, pairs: Iterable[tuple[str, str, float]], weight: float = 1.0) -> None:
        """Merge pairs of one source, normalized so each source word's weights sum to `weight`."""
        grouped: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for source, english, value in pairs:
            key, target = source_key(source), " ".join(english.split())
            if key and target and value > 0:
                grouped[key][target] += value
        table = self.entries.setdefault(lang, {})
        for key, targets in grouped.items():
            total = sum(targets.values())
            merged = table.setdefault(key, {})
            for target, value in targets.items():
                merged[target] = merged.get(target, 0.0) + weight * value / total

    def scaled(self, factor: float) -> Lexicon:
        """A copy with every weight multiplied by `factor`."""
        return Lexicon({lang: {key: {english: value * factor for english, value in senses.items()}
                               for key, senses in table.items()}
                        for lang, table in self.entries.items()})

    def merge(self, other: Lexicon) -> Lexicon:
        """A new lexicon holding both (weights of shared pairs add up)."""
        combined = Lexicon()
        for source in (self, other):
            for lang, table in source.entries.items():
                target = combined.entries.setdefault(lang, {})
                for key, senses in table.items():
                    merged = target.setdefault(key, {})
                    for english, value in senses.items():
                        merged[english] = merged.get(english, 0.0) + value
        return combined


def read_lexicon_file(path: Path) -> list[tuple[str, str, float]]:
    """Rows of one engine-format TSV file; a malformed row is an error naming its line."""
    rows = []
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) != 3:
                    raise LexiconError(f"{path}:{number}: expected 'source<TAB>english<TAB>weight', "
                                       f"found {len(parts)} column(s)")
                try:
                    weight = float(parts[2])
                except ValueError:
                    raise LexiconError(f"{path}:{number}: weight '{parts[2]}' is not a number") from None
                if not math.isfinite(weight) or weight < 0:
                    raise LexiconError(f"{path}:{number}: weight must be a positive number")
                rows.append((parts[0], parts[1], weight))
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise LexiconError(f"cannot read {path}: {exc.strerror or exc}") from None
    return rows


def write_lexicon_file(path: Path, rows: Iterable[tuple[str, str, float]], header: str = "") -> int:
    """Write rows sorted by source word; returns how many were written."""
    ordered = sorted(set(rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for line in header.splitlines():
            out.write(f"# {line}\n")
        for source, english, weight in ordered:
            out.write(f"{source}\t{english}\t{weight:g}\n")
    tmp.replace(path)
    return len(ordered)


def load_lexicon_dir(path: Path, languages: Iterable[str] | None = None) -> Lexicon:
    """Every `<src>-en.<name>.tsv` file of a directory, merged (a missing directory is empty)."""
    lexicon = Lexicon()
    if not path.is_dir():
        return lexicon
    wanted = set(languages) if languages is not None else None
    for file in sorted(path.iterdir()):
        match = FILE_PATTERN.match(file.name)
        if not match or (wanted is not None and match["src"] not in wanted):
            continue
        lexicon.add(match["src"], read_lexicon_file(file))
    return lexicon
