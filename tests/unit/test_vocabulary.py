"""Which words of a question the knowledge base never uses, weighed by what they say."""

from __future__ import annotations

import pytest

from search.lexicon import Lexicon
from search.query_translation import translator_for
from search.vocabulary import KnowledgeBaseVocabulary, specificity
from tests.support.indexes import index_of

ARTICLES = [
    ("en", "cancel", "Cancel your plan", "Open Billing and choose Cancel plan. Your invoices stay."),
    ("en", "phone", "Connect your phone", "Pair your phone with the app over Bluetooth."),
    ("sv", "cancel", "Säg upp ditt abonnemang", "Öppna Fakturering och välj Säg upp."),
    ("ru", "cancel", "Отмените подписку", "Откройте раздел «Оплата» и нажмите «Отменить»."),
    ("en", "github", "Connect GitHub", "Link a GitHub repository to a board."),
]


@pytest.fixture(scope="module")
def vocabulary() -> KnowledgeBaseVocabulary:
    index = index_of(ARTICLES)
    lexicon = Lexicon({"sv": {"gym": {"gym": 1.0}, "kort": {"card": 1.0}},
                       "ru": {"отменить": {"cancel": 1.0}, "счет": {"invoice": 1.0}}})
    return KnowledgeBaseVocabulary(index.keyword, [d.keyword_text for d in index.documents],
                                   translator_for(index, lexicon))


def test_a_near_miss_names_what_the_help_center_never_does(vocabulary) -> None:
    found = vocabulary.familiarity("how do I cancel my gym membership", "en")
    assert found.unknown == ("gym", "membership")
    assert found.share < 0.5


def test_a_question_in_the_help_center_s_words_is_familiar(vocabulary) -> None:
    found = vocabulary.familiarity("how do I cancel my plan", "en")
    assert found.unknown == () and found.share == 1.0


@pytest.mark.parametrize(("question", "lang"), [
    ("cancell my plan", "en"),  # one letter off an article's word: misspelled, not unknown
    ("отменить счет", "ru"),  # known through its English sense (invoice), not in the articles
    ("гитхаб не работает", "ru"),  # a loanword in Cyrillic letters
    ("planen funkar inte", "sv"),  # stems of any of the knowledge base's languages
])
def test_other_ways_of_writing_the_knowledge_base_s_words_are_known(vocabulary, question,
                                                                     lang) -> None:
    assert "cancell" not in vocabulary.unknown(question, lang)
    assert not {"отменить", "счет", "гитхаб", "planen"} & set(vocabulary.unknown(question, lang))


def test_a_common_word_weighs_less_than_a_topic(vocabulary) -> None:
    assert specificity("yesterday", "en") < specificity("gym", "en") < specificity("xqzzy", "en")
    context = vocabulary.familiarity("cancel my plan yesterday", "en")
    topic = vocabulary.familiarity("cancel my gym plan", "en")
    assert context.unknown == ("yesterday",) and topic.unknown == ("gym",)
    assert context.share > topic.share


@pytest.mark.parametrize("question", ["", "🙂🙂", "a b c 42", "how do i"])
def test_a_question_without_content_words_points_nowhere_else(vocabulary, question) -> None:
    assert vocabulary.familiarity(question, "en").share == 1.0


def test_a_swedish_compound_is_familiar_only_when_both_its_parts_are() -> None:
    index = index_of([("sv", "card", "Byt bankkort", "Lägg till ett nytt kort i appen. Banken "
                                                    "skickar en kod.")])
    lexicon = Lexicon({"sv": {"kort": {"card": 1.0, "paypal": 0.6}, "gym": {"gym": 1.0}}})
    vocabulary = KnowledgeBaseVocabulary(index.keyword, [d.keyword_text for d in index.documents],
                                         translator_for(index, lexicon))
    assert vocabulary.unknown("mitt gymkort", "sv") == ["gymkort"]
    assert vocabulary.unknown("bankkortet", "sv") == []  # the articles write "bankkort"
    assert vocabulary.unknown("gymkortet", "sv") == ["gymkortet"]


def test_a_word_typed_without_its_accents_is_the_articles_word() -> None:
    index = index_of([("sv", "password", "Glömt lösenord", "Återställ ditt lösenord.")])
    vocabulary = KnowledgeBaseVocabulary(index.keyword, [d.keyword_text for d in index.documents])
    assert vocabulary.unknown("glomt losenord aterstall", "sv") == []
    assert vocabulary.unknown("блютуз", "ru") == ["блютуз"]  # Cyrillic is never folded


def test_a_huge_question_is_read_in_bounded_time(vocabulary) -> None:
    # Every word is looked up once, and a word is split into parts only up to a length.
    huge = " ".join(["gymkortsavgiftsbetalningspåminnelse" * 20] + ["plan"] * 500)
    found = vocabulary.familiarity(huge, "sv")
    assert len(found.unknown) == 1 and 0.0 < found.share < 1.0
