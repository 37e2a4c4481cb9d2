"""Text normalization and tokenization shared by keyword search, snippets and evaluation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s import stopwords as bm25s_stopwords

_TOKEN = re.compile(r"\w+", re.UNICODE)

SNOWBALL_NAMES = {"en": "english", "sv": "swedish", "ru": "russian", "de": "german",
                  "fr": "french", "es": "spanish", "fi": "finnish", "no": "norwegian",
                  "da": "danish", "nl": "dutch", "it": "italian", "pt": "portuguese"}
_STOPWORDS = {"en": bm25s_stopwords.STOPWORDS_EN, "sv": bm25s_stopwords.STOPWORDS_SWEDISH,
              "ru": bm25s_stopwords.STOPWORDS_RUSSIAN}
# Function words as customers write them in everyday Swedish ("nån" for någon, "dom" for de and
# dem, "mej" for mig): the lists above have only the written forms, so these were read as
# content words, and a dictionary took "nån" for nå (reach) and "dom" for a court's verdict.
# English contractions typed without the apostrophe ("i cant log in") are function words too:
# read as content words the help center never uses, "cant" made a sign-in question look like one
# about something else (search/decision.py). Words that are also content words ("ill", "id",
# "lets") are left out.
_SPOKEN = {"sv": ("nån", "nåt", "nåra", "dom", "mej", "dej", "sej"),
           "en": ("cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont",
                  "wouldnt", "couldnt", "shouldnt", "havent", "hasnt", "hadnt", "im", "ive",
                  "youre", "youve", "theyre", "thats", "whats", "theres")}
# Forms the lists leave out of words they have: Swedish has ingen but not inget or inga, sin and
# sina but not sitt, själv but not självt or själva. Left out, a dictionary read "inget" as a
# content word.
_MISSING_FORMS = {"sv": ("inget", "inga", "sitt", "självt", "själva")}


def normalize(text: str) -> str:
    """NFC, lower case, Russian `ё` as `е`. Swedish `å ä ö` stay distinct letters (they are)."""
    text = unicodedata.normalize("NFC", text).lower()
    return text.replace("ё", "е")


def words(text: str) -> list[str]:
    """Normalized word tokens."""
    return _TOKEN.findall(normalize(text))


@lru_cache(maxsize=None)
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = SNOWBALL_NAMES.get(lang)
    # No word cache (PyStemmer keeps 10,000 words by default): a hit writes the entry's use
    # count, so each gunicorn worker ended up copying the cache the master filled while loading
    # (about 6 MB per worker). Stemming without it costs 0.3 instead of 0.15 us a word.
    return Stemmer.Stemmer(name, 0) if name else None


# The shortest word that says which language a text is in (see `telling_words`).
MIN_TELLING_LENGTH = 3


@lru_cache(maxsize=None)
def stopwords(lang: str) -> frozenset[str]:
    return frozenset(normalize(w) for w in (*_STOPWORDS.get(lang, ()), *_SPOKEN.get(lang, ()),
                                            *_MISSING_FORMS.get(lang, ())))


def stem_tokens(text: str, lang: str, drop_stopwords: bool = True) -> list[str]:
    """Snowball-stemmed tokens for BM25; stopwords dropped unless that would leave nothing."""
    tokens = words(text)
    if drop_stopwords:
        stop = stopwords(lang)
        kept = [t for t in tokens if t not in stop]
        tokens = kept or tokens
    stemmer = _stemmer(lang)
    return stemmer.stemWords(tokens) if stemmer else tokens


def telling_words(text: str) -> list[str]:
    """The text's words that tell one language from another: those of three letters or more
    (two-letter ones are words in many: "on", "to", "na", «он», «то»), or every word of a text
    that has no longer one."""
    tokens = words(text)
    return [token for token in tokens if len(token) >= MIN_TELLING_LENGTH] or tokens


def unaccented(word: str) -> str:
    """A Latin-letter word without its accents (å, ä, ö, é): what a keyboard without them types.
    Other scripts stay as they are (й is a letter of its own, not an accented и)."""
    if not word.isascii() and all(ord(c) < 0x250 for c in word):
        return "".join(c for c in unicodedata.normalize("NFKD", word)
                       if not unicodedata.combining(c))
    return word
