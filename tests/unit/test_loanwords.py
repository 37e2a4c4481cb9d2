"""English words written in Russian letters or with Swedish endings are read as the articles' words."""

from __future__ import annotations

import pytest

from search.index import SearchIndex
from search.lexicon import Lexicon
from search.loanwords import LoanwordMatcher, spellings
from search.query_translation import QueryTranslator, translator_for
from search.synonyms import SynonymIndex
from tests.support.indexes import index_of

ENGLISH = ("Connect GitHub to a board. Create an API token for your repository. "
           "Add the ticket to Apple Wallet. Start the timer on a card. Cards move when a pull "
           "request is merged. Your order was taken. Join the Wi-Fi network, then work online "
           "or open Google Drive.")


@pytest.fixture(scope="module")
def matcher() -> LoanwordMatcher:
    return LoanwordMatcher([ENGLISH, "Подключите GitHub к доске."])


@pytest.mark.parametrize(("word", "english"), [
    ("гитхабе", "github"),  # inflected: the lemma is romanized
    ("токен", "token"), ("апи", "api"),  # short: exact only
    ("репозиторий", "repository"), ("таймер", "timer"), ("воллет", "wallet"),
    ("эппл", "apple"),  # the silent e
    ("тикет", "ticket"),  # one letter short in six
    ("онлайн", "online"), ("драйв", "drive"),  # ай is the English long i
    ("вайфае", "wi fi"),  # a hyphenated term, as the words keyword search knows
])
def test_a_russian_loan_is_read_as_the_articles_english_word(matcher, word, english) -> None:
    assert matcher.match(word, "ru") == english


@pytest.mark.parametrize("word", ["заказ", "токсин", "ап", "мама", "доска"])
def test_a_russian_word_that_only_resembles_an_english_one_is_not_a_loan(matcher, word) -> None:
    assert matcher.match(word, "ru") is None


def test_a_loan_must_keep_its_first_letter() -> None:
    assert LoanwordMatcher(["taken"]).match("токен", "ru") is None  # not "taken"
    assert LoanwordMatcher(["broken"]).match("брокен", "ru") == "broken"


@pytest.mark.parametrize(("word", "english"), [
    ("mergas", "merged"),  # an ending on the English stem
    ("timer", "timer"), ("token", "token"),  # as typed
    ("githuben", "github"),
])
def test_a_swedish_loan_is_an_english_word_with_a_swedish_ending(matcher, word, english) -> None:
    assert matcher.match(word, "sv") == english


def test_a_swedish_word_with_no_english_look_alike_is_not_a_loan(matcher) -> None:
    assert matcher.match("biljetten", "sv") is None
    assert matcher.match("кот", "sv") is None and matcher.match("github", "ru") is None


def test_a_hyphenated_term_is_borrowed_whole_and_only_from_the_articles() -> None:
    assert LoanwordMatcher(["Turn on Wi-Fi."]).match("вайфай", "ru") == "wi fi"
    assert LoanwordMatcher(["Turn on wifi."]).match("вайфай", "ru") == "wifi"
    assert LoanwordMatcher(["Turn on Bluetooth."]).match("вайфай", "ru") is None


def test_spellings_start_with_the_usual_transliteration_and_are_bounded() -> None:
    assert spellings("токен")[0] == "token"
    assert "wallet" not in spellings("воллет") and "wollet" in spellings("воллет")
    assert len(spellings("вжэйюяцвжэй")) <= 48
    # Fewest changed letters first, wherever they are: the first letter's alternative is tried
    # before combinations of the later ones.
    assert spellings("эккаунтменеджер")[1] == "akkauntmenedzher"
    assert spellings("вайфай")[0] == "vayfay" and "wifi" in spellings("вайфай")


def test_a_near_word_with_another_first_letter_does_not_hide_the_loan() -> None:
    assert LoanwordMatcher(["repository depozitoriy"]).match("репозиторий", "ru") == "repository"


LEXICON = {"sv": [("token", "fool"), ("kort", "card")], "ru": [("карточка", "card")]}


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return index_of([
        ("en", "api", "API tokens",
         "Create an API token to connect GitHub. The token is shown once."),
        ("ru", "github", "Подключите GitHub", "Откройте настройки и подключите GitHub к доске."),
        ("sv", "kort", "Skapa ett kort", "Klicka på Nytt kort."),
    ])


@pytest.fixture(scope="module")
def translator(index) -> QueryTranslator:
    lexicon = Lexicon()
    for lang, pairs in LEXICON.items():
        lexicon.add(lang, [(source, english, 1.0) for source, english in pairs])
    translator = translator_for(index, lexicon, learned=False)
    assert translator is not None
    return translator


def test_translation_keeps_the_loan_a_dictionary_does_not_know(translator) -> None:
    translated = translator.translate("токен для гитхаба", "ru")
    assert {"token", "github"} <= set(translated.terms)
    assert translated.covered == 1.0


def test_the_english_sense_of_a_swedish_look_alike_wins_where_the_articles_use_it(
        translator) -> None:
    # Swedish "token" is a fool; this help center's English articles speak of API tokens.
    assert dict(translator.translate("var hittar jag min token", "sv").words)["token"][0] == "token"


def test_without_loans_the_word_is_lost(index) -> None:
    lexicon = Lexicon()
    lexicon.add("ru", [("карточка", "card", 1.0)])
    plain = QueryTranslator(lexicon)
    assert "github" not in plain.translate("как подключить гитхаб", "ru").terms


def test_a_russian_article_naming_a_brand_in_latin_letters_is_found_by_its_cyrillic_spelling(
        translator, index) -> None:
    synonyms = SynonymIndex(translator, {"ru": [d.keyword_text for d in index.documents
                                                if d.lang == "ru"]})
    expansion = synonyms.expand("как подключить гитхаб", "ru", index.keyword["ru"].has_stem)
    assert "github" in expansion
