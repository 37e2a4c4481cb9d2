"""Dictionary forms of what customers type, so inflected words can be looked up in a lexicon.

Russian inflection is rich (хочу, заказа, оплатила): pymorphy3 analyses a word into its possible
lemmas with probabilities. Swedish is regular enough for suffix rules (får -> få, beställningen ->
beställning, skickade -> skicka); the candidates are filtered by the lexicon, and compounds
(presentkortet -> present + kort) are split against it (`swedish_splits`; see QueryTranslator
and search/vocabulary.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from search.text import telling_words, words

# Swedish endings, longest first: (ending, what replaces it). Candidates that are not in the
# lexicon are discarded by the caller, so over-generating is cheap and safe.
_SWEDISH_ENDINGS: tuple[tuple[str, str], ...] = (
    ("arnas", ""), ("ernas", ""), ("ornas", ""), ("arna", ""), ("erna", ""), ("orna", ""),
    # Nouns in -e drop it before an ending: grannens, grannar -> granne (neighbour).
    ("arnas", "e"), ("arna", "e"), ("ens", "e"), ("ars", "e"),
    ("ningen", "ning"), ("ningar", "ning"), ("heten", "het"), ("heter", "het"),
    ("ande", "a"), ("ende", "a"), ("ades", "a"), ("ade", "a"), ("ats", "a"), ("at", "a"),
    ("ande", ""), ("else", "else"),
    ("ens", ""), ("ets", ""), ("ers", ""), ("ars", ""),
    ("tte", ""), ("dde", ""), ("te", "a"), ("de", "a"), ("te", ""), ("de", ""),
    ("er", "a"), ("er", ""), ("ar", ""), ("en", "e"), ("ar", "e"), ("or", "a"), ("en", ""),
    ("et", ""), ("na", ""), ("an", "a"),
    ("as", "a"), ("es", ""), ("s", ""), ("r", ""), ("t", ""), ("a", ""), ("e", ""), ("n", ""),
)
# Verbs in -s, passive (behövs: behöva, förstördes: förstöra) or deponent (syns: synas). Not
# tried for a form of a strong verb, whose verb is known (finns is finnas, not finna: find).
_SWEDISH_S_VERB_ENDINGS: tuple[tuple[str, str], ...] = (
    ("tes", "as"), ("des", "as"), ("tes", "a"), ("des", "a"), ("s", "as"), ("s", "a"),
)
MIN_SWEDISH_STEM = 2
_SWEDISH_VOWELS = frozenset("aeiouyåäö")
# Strong and irregular verbs, whose past forms no ending rule reaches (tog bort -> ta bort,
# sa upp -> säga upp): infinitive -> its past, supine and present forms. Grammar, not vocabulary.
_SWEDISH_STRONG_VERBS: dict[str, tuple[str, ...]] = {
    "ta": ("tog", "tagit", "tar"), "säga": ("sa", "sade", "sagt", "säger"),
    "gå": ("gick", "gått", "går"), "lägga": ("la", "lade", "lagt", "lägger"),
    "få": ("fick", "fått", "får"), "ge": ("gav", "gett", "givit", "ger"),
    "komma": ("kom", "kommit"), "dra": ("drog", "dragit", "drar"), "slå": ("slog", "slagit"),
    "stå": ("stod", "stått"), "se": ("såg", "sett", "ser"), "göra": ("gjorde", "gjort", "gör"),
    "bli": ("blev", "blivit", "blir"), "skriva": ("skrev", "skrivit"), "hålla": ("höll", "hållit"),
    "ligga": ("låg", "legat"), "ha": ("hade", "haft", "har"), "sätta": ("satte", "satt"),
    "sitta": ("satt", "suttit"), "veta": ("visste", "vetat", "vet"), "välja": ("valde", "valt"),
    "sälja": ("sålde", "sålt"), "finnas": ("fanns", "funnits", "finns"),
    "försvinna": ("försvann", "försvunnit"), "bjuda": ("bjöd", "bjudit"), "bryta": ("bröt", "brutit"),
    "bära": ("bar", "burit"), "flyga": ("flög", "flugit"), "frysa": ("frös", "frusit"),
    "låta": ("lät", "låtit"), "falla": ("föll", "fallit"), "stiga": ("steg", "stigit"),
    "driva": ("drev", "drivit"), "riva": ("rev", "rivit"), "slita": ("slet", "slitit"),
    "skjuta": ("sköt", "skjutit"), "dricka": ("drack", "druckit"), "hinna": ("hann", "hunnit"),
    "vinna": ("vann", "vunnit"), "springa": ("sprang", "sprungit"), "stjäla": ("stal", "stulit"),
    "glömma": ("glömde", "glömt"), "gälla": ("gällde", "gällt"), "dyka": ("dök", "dykt"),
    "vilja": ("ville", "velat", "vill"), "kunna": ("kunde", "kunnat", "kan"),
    "vara": ("var", "varit", "är"),
    # "mobilen dog" (died), "jag bad om en återbetalning" (asked). Not äta's past "åt", which is
    # far more often the preposition ("köpte en biljett åt mamma").
    "dö": ("dog", "dött", "dör"), "be": ("bad", "bett", "ber"), "sova": ("sov", "sovit"),
    "ljuga": ("ljög", "ljugit"), "äta": ("ätit", "äter"),
}


def _verbs_by_form(verbs: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each form with the verbs it belongs to: one may belong to two (satt: sätta and sitta)."""
    out: dict[str, tuple[str, ...]] = {}
    for verb, forms in verbs.items():
        for form in forms:
            out[form] = (*out.get(form, ()), verb)
    return out


def _participles(verbs: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The past participle of each strong verb, from its supine in -it: dragit -> dragen,
    dragna; försvunnit -> försvunna. The neuter (draget, fallet) is left out: it is also the
    definite form of nouns (fallet: the case)."""
    forms: dict[str, tuple[str, ...]] = {}
    for verb, past in verbs.items():
        for supine in (f for f in past if f.endswith("it") and len(f) >= 5):
            stem = supine[:-2]
            plural = stem + "a" if stem.endswith("nn") else stem + "na"
            forms[verb] = (*forms.get(verb, ()), stem + "en", plural)
    return _verbs_by_form(forms)


_SWEDISH_IRREGULAR = _verbs_by_form(_SWEDISH_STRONG_VERBS)
_SWEDISH_PARTICIPLES = _participles(_SWEDISH_STRONG_VERBS)
# Prefixes that make new verbs of the same stem: avbröt -> avbryta, förstod -> förstå.
_SWEDISH_VERB_PREFIXES = ("av", "be", "för", "in", "upp", "ut", "över", "under", "om", "fram", "till")


# Verbs of everyday spoken Swedish that the dictionaries do not list, by the written verb they
# stand for: "internet funkar inte" is "fungerar inte" (doesn't work).
_SWEDISH_SPOKEN_VERBS = {"funka": "fungera"}


def swedish_candidates(word: str) -> list[tuple[str, float]]:
    """The word itself, then forms with inflectional endings removed (less likely, shorter)."""
    out = _swedish_forms(word)
    # Known from a table, as a strong verb's infinitive is: more likely than a guessed stem.
    written = {_SWEDISH_SPOKEN_VERBS[form] for form, _ in out if form in _SWEDISH_SPOKEN_VERBS}
    return out + [(form, 0.95) for form in sorted(written) if all(form != seen for seen, _ in out)]


def _swedish_forms(word: str) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = [(word, 1.0)]
    seen = {word}
    strong_verbs = _irregular_infinitives(word)
    for infinitive in strong_verbs:
        if infinitive not in seen:
            seen.add(infinitive)
            out.append((infinitive, 0.95))
    endings = _SWEDISH_ENDINGS if strong_verbs else _SWEDISH_ENDINGS + _SWEDISH_S_VERB_ENDINGS
    stems: list[str] = []
    for ending, replacement in endings:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_SWEDISH_STEM:
            candidate = word[: len(word) - len(ending)] + replacement
            if candidate not in seen:
                seen.add(candidate)
                out.append((candidate, 0.9))
            if not replacement and ending[0] in _SWEDISH_VOWELS:
                stems.append(candidate)
    for stem in stems:
        for noun in _unsyncopated(stem):
            if noun not in seen:
                seen.add(noun)
                out.append((noun, 0.85))
    for verb in _SWEDISH_PARTICIPLES.get(word, ()):
        if verb not in seen:
            seen.add(verb)
            out.append((verb, 0.85))
    if not word.endswith("a") and word + "a" not in seen:
        out.append((word + "a", 0.8))  # imperative and stem forms of verbs: skriv -> skriva
    return out


def _unsyncopated(stem: str) -> tuple[str, ...]:
    """A noun in unstressed -er, -el or -en loses that e before an ending that starts with a
    vowel, and a double consonant before it is written single: numret is nummer, vädret väder,
    exemplet exempel, vattnet vatten, nycklar nyckel. The forms the stem left by such an ending
    may come from."""
    if len(stem) < 3 or stem[-1] not in "rln" or stem[-2] in _SWEDISH_VOWELS:
        return ()
    forms = [stem[:-1] + "e" + stem[-1]]
    if stem[-3] in _SWEDISH_VOWELS:
        forms.append(stem[:-1] + stem[-2] + "e" + stem[-1])
    return tuple(forms)


def is_swedish_verb_form(word: str) -> bool:
    """Whether `word` is a form of a Swedish strong verb ("sa" of säga): a word in its own right
    even where a more common word differs from it only by an accent ("så")."""
    return bool(_irregular_infinitives(word))


def _irregular_infinitives(word: str) -> tuple[str, ...]:
    if word in _SWEDISH_IRREGULAR:
        return _SWEDISH_IRREGULAR[word]
    for prefix in _SWEDISH_VERB_PREFIXES:
        rest = word[len(prefix):]
        if word.startswith(prefix) and len(rest) >= 2 and rest in _SWEDISH_IRREGULAR:
            return tuple(prefix + verb for verb in _SWEDISH_IRREGULAR[rest])
    return ()


@lru_cache(maxsize=1)
def _russian_analyzer() -> Any:
    import pymorphy3  # loaded on first Russian query: its dictionaries take a moment to open

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=50_000)
def russian_candidates(word: str) -> tuple[tuple[str, float], ...]:
    """Lemmas pymorphy3 proposes, most probable first, with their probabilities summed."""
    scores: dict[str, float] = {}
    for parse in _russian_analyzer().parse(word):
        lemma = parse.normal_form.replace("ё", "е")
        scores[lemma] = scores.get(lemma, 0.0) + float(parse.score)
    if word not in scores:
        scores[word] = min(scores.values(), default=1.0) * 0.5  # the form as typed, as a last try
    return tuple(sorted(scores.items(), key=lambda item: -item[1]))


@lru_cache(maxsize=50_000)
def is_russian_word(word: str) -> bool:
    """Whether the Russian dictionary knows the word (any form): зайти is Russian even where
    no article uses it. One-letter words are left out: too many keys on a layout are one."""
    return len(word) >= 2 and bool(_russian_analyzer().word_is_known(word))


def dictionary_known_share(text: str, lang: str) -> float:
    """Share of the text's words that the language's own dictionary knows, among those that tell
    languages apart (Russian only; 0 for languages without one here). Short words alone prove
    nothing (`hi` read as «хи» is a dictionary word), so a text counts only when it has a known
    word of four letters or more."""
    if lang != "ru":
        return 0.0
    tokens = telling_words(text)
    known = [token for token in tokens if is_russian_word(token)]
    if not any(len(token) >= 4 for token in known):
        return 0.0
    return len(known) / len(tokens)


def lemma_candidates(word: str, lang: str) -> list[tuple[str, float]]:
    """Possible dictionary forms of a normalized word, with how likely each is."""
    if lang == "ru":
        return list(russian_candidates(word))
    if lang == "sv":
        return swedish_candidates(word)
    return [(word, 1.0)]


# A part of a Swedish compound has at least this many letters.
MIN_COMPOUND_PART = 3


def swedish_splits(word: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every way to read a Swedish word as two parts: the forms its first part may have (with
    and without the linking s: tidning-s-bud) and its second part."""
    for cut in range(MIN_COMPOUND_PART, len(word) - MIN_COMPOUND_PART + 1):
        head, tail = word[:cut], word[cut:]
        linked = head.endswith("s") and len(head) > MIN_COMPOUND_PART
        if linked:
            yield (head, head[:-1]), tail
        elif head[-1] not in _SWEDISH_VOWELS:
            # A first part may drop its final vowel: njurfoder (njure), skolbuss (skola).
            yield (head, head + "e", head + "a"), tail
        else:
            yield (head,), tail
