"""Reading open bilingual dictionaries in their original formats into the engine's lexicon files.

Three formats are understood (what `kb dict import` accepts):

- English Wiktionary translation tables as text (`en-sv-enwiktionary.txt`): one English sense per
  line, `headword {pos} (gloss) :: trans1 {gender}, trans2 [qualifier], ...`;
- the same tables as a dictzip-compressed ABBYY DSL file (`en-ru-enwiktionary.dsl.dz`): an English
  headword on an unindented line, its translations inside `[m1]...[/m]` on indented lines;
- Open Multilingual Wordnet `.tab` files (`wn-wikt-swe.tab`): `synset<TAB>lang:lemma<TAB>lemma`;
  a Swedish or Russian lemma translates to the English lemmas sharing a synset.

All are English -> X; they are inverted to X -> English. A pair's weight counts the sense lines
(or synsets) that link it, a rough confidence that the sense ranking builds on.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from search.lexicon import LexiconError, source_key, write_lexicon_file

MAX_WORDS = 4
_STRAY = " ()[]{}<>;!?\"'"
WORDNET_LANGUAGES = {"swe": "sv", "rus": "ru", "eng": "en"}
_WIKTIONARY_TXT = re.compile(r"^en-(?P<lang>[a-z]{2,3})-enwiktionary\.txt$")
_DSL = re.compile(r"^en-(?P<lang>[a-z]{2,3})-.*\.dsl(\.dz)?$")
_WORDNET = re.compile(r"^wn-[\w-]+-(?P<lang>[a-z]{3})\.tab$")

_BRACES = re.compile(r"\{[^}]*\}")
_BRACKETS = re.compile(r"\[[^\]]*\]")
_PARENS = re.compile(r"\([^)]*\)")
_DSL_ESCAPED_QUALIFIER = re.compile(r"\\\[.*?\\\]")
_DSL_GRAY = re.compile(r"\[c gray\].*?\[/c\]")
_DSL_GRAMMAR = re.compile(r"\[p\].*?\[/p\]")
_DSL_TRANSLIT = re.compile(r"/[^/]*/")
_DSL_TAG = re.compile(r"\[/?[a-z0-9]+[^\]]*\]")
_CYRILLIC_RUN = re.compile(r"[А-Яа-яЁё\u0301-]+(?:[ -][А-Яа-яЁё\u0301-]+)*")


@dataclass
class ImportedTable:
    """Pairs read from one dictionary file for one source language."""

    sources: list[Path]
    lang: str
    kind: str  # "wiktionary" or "omw"
    pairs: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))

    def add(self, translation: str, english: str, weight: float = 1.0) -> None:
        key = source_key(translation.strip(_STRAY))
        english = " ".join(english.strip(_STRAY).split())
        if any(mark in key + english for mark in "()[]{}<>"):
            return  # leftovers of nested brackets: not a clean word
        if key and english and len(key.split()) <= MAX_WORDS and len(english.split()) <= MAX_WORDS:
            self.pairs[(key, english)] += weight

    def rows(self) -> Iterator[tuple[str, str, float]]:
        for (source, english), weight in self.pairs.items():
            yield source, english, weight


def _split_translations(text: str) -> Iterator[str]:
    """Comma-separated translations, each with any `qualifier:` prefix removed."""
    for part in text.split(","):
        part = part.strip()
        if ":" in part:
            part = part.rsplit(":", 1)[1].strip()
        if part:
            yield part


def read_wiktionary_text(path: Path, lang: str) -> ImportedTable:
    table = ImportedTable([path], lang, "wiktionary")
    for number, line in _numbered_lines(path, "utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        if " :: " not in line and not line.rstrip().endswith("::"):
            raise LexiconError(f"{path}:{number}: not a Wiktionary translation line "
                               "(expected 'headword {pos} (gloss) :: translations')")
        left, _, right = line.partition("::")
        english = _PARENS.sub(" ", _BRACES.sub(" ", left)).strip()
        if not english or "SEE:" in right:
            continue
        cleaned = _PARENS.sub(" ", _BRACKETS.sub(" ", _BRACES.sub(" ", right)))
        for translation in _split_translations(cleaned):
            table.add(translation, english)
    return table


def read_wiktionary_dsl(path: Path, lang: str) -> ImportedTable:
    table = ImportedTable([path], lang, "wiktionary")
    raw = _read_bytes(path)
    try:
        text = raw.decode(_dsl_encoding(raw))
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-16 or UTF-8 text ({exc.reason})") from None
    headword: str | None = None
    entries = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if not line[0].isspace():
            headword = line.strip().replace("\\", "")
            continue
        if "[m1]" not in line:
            continue
        if headword is None:
            raise LexiconError(f"{path}:{number}: a translation line before any headword")
        entries += 1
        body = line.strip()[len("[m1]"):].removesuffix("[/m]")
        for pattern in (_DSL_ESCAPED_QUALIFIER, _DSL_GRAY, _DSL_GRAMMAR, _DSL_TRANSLIT, _DSL_TAG,
                        _PARENS):
            body = pattern.sub(" ", body)
        for translation in _split_translations(body):
            # Keep only the Russian words: transliterations and notes are in Latin letters.
            runs = _CYRILLIC_RUN.findall(translation) if lang == "ru" else [translation]
            if runs:
                table.add(" ".join(runs), headword)
    if not entries:
        # Any text has unindented lines; only [m1] translation lines make it a dictionary.
        raise LexiconError(f"{path}: no DSL entries found (a headword, then indented "
                           "[m1]...[/m] translation lines): is this an ABBYY DSL file?")
    return table


def read_wordnet(paths: Iterable[Path]) -> list[ImportedTable]:
    """Join wordnet lemmas of each language with the English lemmas sharing their synsets."""
    lemmas: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    sources: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        match = _WORDNET.match(path.name)
        code = WORDNET_LANGUAGES.get(match["lang"]) if match else None
        if code is None:
            raise LexiconError(f"{path}: not a wordnet file named wn-<project>-<lang>.tab with a "
                               f"language among {', '.join(WORDNET_LANGUAGES)}")
        sources[code].append(path)
        for number, line in _numbered_lines(path, "utf-8"):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or ":" not in parts[1]:
                raise LexiconError(f"{path}:{number}: expected 'synset<TAB>lang:lemma<TAB>lemma'")
            if parts[1].endswith(":lemma"):
                lemmas[code][parts[0]].add(parts[2].replace("_", " "))
    english = lemmas.get("en", {})
    if not english:
        raise LexiconError("wordnet import needs the English lemmas too (a wn-*-eng.tab file)")
    tables = []
    for code, synsets in sorted(lemmas.items()):
        if code == "en":
            continue
        table = ImportedTable(sources[code], code, "omw")
        for synset, words in synsets.items():
            for word in words:
                for target in english.get(synset, ()):
                    table.add(word, target)
        tables.append(table)
    return tables


def read_dictionaries(paths: Iterable[Path]) -> list[ImportedTable]:
    """Every dictionary file among `paths` (folders are searched), by its file name."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise LexiconError(f"{path}: no such file or folder")
    tables: list[ImportedTable] = []
    wordnet: list[Path] = []
    for file in files:
        if match := _WIKTIONARY_TXT.match(file.name):
            tables.append(read_wiktionary_text(file, match["lang"]))
        elif match := _DSL.match(file.name):
            tables.append(read_wiktionary_dsl(file, match["lang"]))
        elif _WORDNET.match(file.name):
            wordnet.append(file)
    if wordnet:
        tables.extend(read_wordnet(wordnet))
    if not tables:
        raise LexiconError("no dictionary files found: expected en-<lang>-enwiktionary.txt, "
                           "en-<lang>-*.dsl.dz or wn-*-<lang>.tab files")
    return tables


def write_tables(tables: Iterable[ImportedTable], directory: Path) -> dict[str, int]:
    """Write one `<lang>-en.<kind>.tsv` per language and kind; returns rows written per file."""
    merged: dict[tuple[str, str], dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    origins: dict[tuple[str, str], list[str]] = defaultdict(list)
    for table in tables:
        for pair, weight in table.pairs.items():
            merged[(table.lang, table.kind)][pair] += weight
        origins[(table.lang, table.kind)].extend(source.name for source in table.sources)
    written = {}
    for (lang, kind), pairs in sorted(merged.items()):
        name = f"{lang}-en.{kind}.tsv"
        header = (f"{lang} -> en pairs inverted from {', '.join(sorted(set(origins[(lang, kind)])))}.\n"
                  "Derived data: it keeps the licence and attribution of its source dictionary.")
        written[name] = write_lexicon_file(directory / name,
                                           ((s, e, w) for (s, e), w in pairs.items()), header)
    return written


def _dsl_encoding(raw: bytes) -> str:
    """DSL files are UTF-16 (often without a byte-order mark) or UTF-8."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if len(raw) >= 2 and raw[1] == 0:
        return "utf-16-le"
    if len(raw) >= 2 and raw[0] == 0:
        return "utf-16-be"
    return "utf-8"


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LexiconError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix == ".dz" or data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)  # dictzip is gzip with a random-access index
        except (OSError, EOFError, zlib.error) as exc:
            raise LexiconError(f"{path}: not a readable dictzip/gzip file ({exc})") from None
    return data


def _numbered_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    data = _read_bytes(path)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None
    return enumerate(text.splitlines(), 1)
