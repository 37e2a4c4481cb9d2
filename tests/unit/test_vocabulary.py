"""Which words of a question the knowledge base never uses, weighed by what they say."""

from __future__ import annotations

import pytest

from search.lexicon import Lexicon
from search.query_translation import translator_for
from search.vocabulary import KnowledgeBaseVocabulary, specificity, zipf
from tests.support.indexes import index_of

ARTICLES = [
    ("en", "cancel", "Cancel your plan", "Open Billing and choose Cancel plan. Your invoices stay."),
    ("en", "phone", "Connect your phone", "Pair your phone with the app over Bluetooth."),
    ("sv", "cancel", "Säg upp ditt abonnemang", "Öppna Fakturering och välj Säg upp."),
    ("ru", "cancel", "Отмените подписку", "Откройте раздел «Оплата» и нажмите «Отменить»."),
    ("en", "github", "Connect GitHub", "Link a GitHub repository to a board."),
]


def vocabulary_of(articles: list[tuple[str, str, str, str]],
                  lexicon: Lexicon | None = None) -> KnowledgeBaseVocabulary:
    index = index_of(articles)
    return KnowledgeBaseVocabulary(index.keyword, [d.keyword_text for d in index.documents],
                                   translator_for(index, lexicon) if lexicon else None)


@pytest.fixture(scope="module")
def vocabulary() -> KnowledgeBaseVocabulary:
    return vocabulary_of(ARTICLES, Lexicon({
        "sv": {"gym": {"gym": 1.0}, "kort": {"card": 1.0}},
        "ru": {"отменить": {"cancel": 1.0}, "счет": {"invoice": 1.0}}}))


def unknown(vocabulary: KnowledgeBaseVocabulary, text: str, lang: str) -> tuple[str, ...]:
    return vocabulary.familiarity(text, lang).unknown


def test_a_near_miss_names_what_the_help_center_never_does(vocabulary) -> None:
    found = vocabulary.familiarity("how do I cancel my gym membership", "en")
    assert found.unknown == ("gym", "membership")
    assert found.share < 0.5


def test_a_question_in_the_help_center_s_words_is_familiar(vocabulary) -> None:
    found = vocabulary.familiarity("how do I cancel my plan", "en")
    assert found.unknown == () and found.share == 1.0


@pytest.mark.parametrize("question", ["i cant cancel my plan", "dont want my plan", "im cancelling"])
def test_a_contraction_typed_without_its_apostrophe_is_no_word_the_help_center_lacks(
        vocabulary, question) -> None:
    # "i cant log in" named two words no article uses, and so was sent to a person
    # (search/decision.py); "can't" is a function word however it is typed.
    assert not {"cant", "dont", "im"} & set(unknown(vocabulary, question, "en"))


@pytest.mark.parametrize(("question", "lang", "word"), [
    ("cancell my plan", "en", "cancell"),  # one letter off an article's word: misspelled
    ("отменить счет", "ru", "счет"),  # known through its English sense (invoice)
    ("гитхаб не работает", "ru", "гитхаб"),  # a loanword in Cyrillic letters
    ("planen funkar inte", "sv", "planen"),  # stems of any of the knowledge base's languages
])
def test_other_ways_of_writing_the_knowledge_base_s_words_are_known(vocabulary, question, lang,
                                                                     word) -> None:
    assert word not in unknown(vocabulary, question, lang)


@pytest.mark.parametrize(("question", "lang", "word"), [
    ("gym2024 membership", "en", "gym2024"),  # codes and numbers name no topic
    ("the gym", "en", "the"),  # a stopword
    ("here it is", "en", "here"),  # as common as a stopword, though no list has it
])
def test_words_that_name_no_topic_are_not_weighed(vocabulary, question, lang, word) -> None:
    assert word not in unknown(vocabulary, question, lang)
    assert zipf("here", "en") > zipf("gym", "en") > 0


def test_a_common_word_weighs_less_than_a_topic(vocabulary) -> None:
    assert specificity("yesterday", "en") < specificity("gym", "en") < specificity("xqzzy", "en")
    context = vocabulary.familiarity("cancel my plan yesterday", "en")
    topic = vocabulary.familiarity("cancel my gym plan", "en")
    assert context.unknown == ("yesterday",) and topic.unknown == ("gym",)
    assert context.share > topic.share


def test_a_language_without_word_frequencies_weighs_every_word_alike() -> None:
    vocabulary = vocabulary_of([("et", "plan", "Tühista plaan", "Ava arveldus.")])
    assert zipf("plaan", "et") == 0.0 and specificity("jõusaal", "et") == specificity("kaart", "et")
    found = vocabulary.familiarity("tühista jõusaal kaart", "et")
    assert found.unknown == ("jõusaal", "kaart") and found.share == pytest.approx(1 / 3, abs=1e-4)


@pytest.mark.parametrize("question", ["", "🙂🙂", "a b c 42", "how do i"])
def test_a_question_without_content_words_points_nowhere_else(vocabulary, question) -> None:
    assert vocabulary.familiarity(question, "en").share == 1.0


def test_a_swedish_compound_is_familiar_only_when_both_its_parts_are() -> None:
    vocabulary = vocabulary_of(
        [("sv", "card", "Byt bankkort", "Lägg till ett nytt kort i appen. Banken skickar en kod. "
                                        "Tidningen kommer med bud.")],
        Lexicon({"sv": {"kort": {"card": 1.0, "paypal": 0.6}, "gym": {"gym": 1.0}}}))
    assert unknown(vocabulary, "mitt gymkort", "sv") == ("gymkort",)
    assert unknown(vocabulary, "bankkortet", "sv") == ()  # the articles write "bankkort"
    assert unknown(vocabulary, "gymkortet", "sv") == ("gymkortet",)
    assert unknown(vocabulary, "tidningsbudet", "sv") == ()  # tidning-s-bud: the linking s


def test_a_word_typed_without_its_accents_is_the_articles_word() -> None:
    vocabulary = vocabulary_of([("sv", "password", "Glömt lösenord", "Återställ ditt lösenord.")])
    assert unknown(vocabulary, "glomt losenord aterstall", "sv") == ()
    assert unknown(vocabulary, "блютуз", "ru") == ("блютуз",)  # Cyrillic is never folded


def test_each_word_is_looked_up_once(monkeypatch) -> None:
    vocabulary = vocabulary_of(ARTICLES)
    calls: list[str] = []
    looked_up = vocabulary._known_as_is
    monkeypatch.setattr(vocabulary, "_known_as_is",
                        lambda token, lang: calls.append(token) or looked_up(token, lang))
    question = "my spa membership, my spa membership"
    vocabulary.familiarity(question, "en")
    vocabulary.familiarity(question, "en")
    assert sorted(calls) == ["membership", "spa"]
