from __future__ import annotations

from search.repair import from_english_layout, from_translit, repair_query

RU_WORDS = {"не", "работает", "промокод", "забыла", "пароль", "войти", "могу", "где", "заказ"}


def known(text: str, lang: str) -> float:
    words = text.lower().replace(",", " ").split()
    if not words:
        return 0.0
    vocabulary = RU_WORDS if lang == "ru" else {"my", "password", "not", "working", "promo"}
    # A crude stem match, like Snowball would give: the first five letters.
    stems = {w[:5] for w in vocabulary}
    return sum(1 for w in words if w[:5] in stems) / len(words)


def test_english_layout_becomes_russian() -> None:
    assert from_english_layout("yt hf,jnftn ghjvjrjl") == "не работает промокод"


def test_translit_becomes_cyrillic() -> None:
    assert from_translit("zabyla parol ne mogu") == "забыла парол не могу"
    assert from_translit("gde moi zakaz") == "где мои заказ"


def test_repair_keeps_the_reading_the_vocabulary_knows() -> None:
    layout = repair_query("yt hf,jnftn ghjvjrjl", known, ("en",))
    assert layout is not None and (layout.text, layout.kind) == ("не работает промокод",
                                                                 "keyboard-layout")
    translit = repair_query("zabyla parol ne mogu voiti", known, ("en",))
    assert translit is not None and translit.kind == "transliteration"
    assert translit.text.startswith("забыла парол")


def test_real_english_and_cyrillic_are_left_alone() -> None:
    assert repair_query("my password is not working", known, ("en",)) is None
    assert repair_query("не работает промокод", known, ("en",)) is None
    assert repair_query("12345", known, ("en",)) is None


def test_the_russian_dictionary_vouches_for_a_layout_reading_the_articles_lack() -> None:
    from search.morphology import dictionary_known_share

    nothing = lambda text, lang: 0.0  # noqa: E731 - no article uses any of these words
    russian = lambda text: dictionary_known_share(text, "ru")  # noqa: E731
    repaired = repair_query("yt vjue pfqnb", nothing, ("en",), dictionary=russian)
    assert repaired is not None and repaired.text == "не могу зайти"
    assert repair_query("yt vjue pfqnb", nothing, ("en",)) is None


def test_english_spelt_in_cyrillic_letters_is_not_taken_for_russian() -> None:
    from search.morphology import dictionary_known_share

    nothing = lambda text, lang: 0.0  # noqa: E731
    russian = lambda text: dictionary_known_share(text, "ru")  # noqa: E731
    # Letter by letter these read as Russian loanwords (ордер, импорт); only the layout
    # reading may lean on the dictionary.
    for text in ("had to pay import VAT on my order", "my poster came out blurry", "hi"):
        assert repair_query(text, nothing, ("en",), dictionary=russian) is None


def test_informal_romanization_gets_back_the_letters_it_drops() -> None:
    from search.morphology import is_russian_word

    assert from_translit("dengi spisali", is_russian_word) == "деньги списали"  # the soft sign
    assert from_translit("taimer", is_russian_word) == "таймер"  # й written as i
    assert from_translit("dengi") == "денги"  # without a dictionary: letter by letter


def test_the_dictionary_vouches_for_latin_letters_only_when_the_words_are_not_english_or_swedish(
        ) -> None:
    from search.morphology import dictionary_known_share, is_russian_word

    nothing = lambda text, lang: 0.0  # noqa: E731 - no article uses any of these words
    russian = lambda text: dictionary_known_share(text, "ru")  # noqa: E731
    latin = {"had", "to", "pay", "import", "vat", "on", "my", "order", "a", "net",  # English
             "vill", "ha", "med", "hela", "bilden", "inte"}  # Swedish

    def read(text: str, latin_words=lambda text: sum(
            w in latin for w in text.replace(",", "").lower().split()) / len(text.split())):
        return repair_query(text, nothing, ("en",), dictionary=russian,
                            known_word=is_russian_word, latin_words=latin_words)

    repaired = read("dengi spisali a bileta v prilozhenii net")
    assert repaired is not None and repaired.kind == "transliteration"
    assert repaired.text == "деньги списали а билета в приложении нет"
    assert read("had to pay import VAT on my order") is None
    assert read("vill ha med hela bilden, inte beskuren") is None  # вилл ха мед хела ...
    # Without a vocabulary to tell them apart, only the articles' words count.
    assert read("dengi spisali a bileta v prilozhenii net", latin_words=None) is None


def _reader_with_dictionaries(english_words: int, imported: bool = True):
    from search.lexicon import Lexicon
    from search.query import QueryReader
    from search.query_translation import QueryTranslator
    from tests.support.indexes import index_of

    index = index_of([("en", "a", "Tickets", "Buy a ticket in the app."),
                      ("ru", "a", "Билеты", "Купите билет в приложении.")])
    lexicon = Lexicon()
    lexicon.add("ru", [(f"слово{i}", f"word{i}", 1.0) for i in range(english_words)]
                + [("деньги", "money", 1.0)]
                # Real dictionaries have abbreviations and short words among their English.
                + [(f"абв{word}", word, 1.0) for word in ("est", "li", "na", "on", "to", "my",
                                                            "search", "main")])
    lexicon.add("sv", [("bil", "car", 1.0)])  # "bilet" reads as Swedish bil + -et
    return QueryReader(("en", "ru"), index, QueryTranslator(
        lexicon, dictionaries=lexicon if imported else None))


def test_latin_letter_russian_is_read_as_russian_once_dictionaries_are_imported() -> None:
    question = "dengi spisali a bileta v prilozhenii net"
    imported = _reader_with_dictionaries(english_words=25_000).repair(question)
    assert imported is not None and imported.text.startswith("деньги списали")
    # The same words learned from the help center's own translations are no dictionary, and a
    # small dictionary cannot tell English from Russian.
    assert _reader_with_dictionaries(english_words=25_000, imported=False).repair(question) is None
    assert _reader_with_dictionaries(english_words=50).repair(question) is None


def test_only_words_of_three_letters_or_more_tell_english_from_russian_in_latin_letters() -> None:
    reader = _reader_with_dictionaries(english_words=25_000)
    # "est", "li" and "na" are dictionary English too; the longer words are not English.
    repaired = reader.repair("est li bilet na sutki dlya turistov")
    assert repaired is not None and repaired.text == "ест ли билет на сутки для туристов"
    # English with names and words no dictionary lists: «он», «то» and «мы» prove nothing.
    assert reader.repair("constraining search on gmail to my main inbox") is None


def test_swedish_typed_without_accents_gets_the_articles_accents() -> None:
    from search.repair import restore_accents

    accented = {"glomt": "glömt", "losenord": "lösenord", "har": "hår"}

    def keep(typed: str, _accented: str) -> bool:
        return typed in {"kan", "inte", "har", "logga"}

    assert restore_accents("Glomt losenord, kan inte logga in", accented, keep) == \
        "glömt lösenord, kan inte logga in"
    # A word in its own right stays ("har" is not "hår").
    assert restore_accents("jag har glomt", accented, keep) == "jag har glömt"
    # A question with one accented letter was typed on a keyboard that has them all.
    assert restore_accents("glömt losenord", accented, keep) is None


def test_the_accents_given_back_come_from_general_language_too() -> None:
    from search.morphology import is_swedish_verb_form
    from search.vocabulary import accented_words

    swedish = accented_words("sv")
    assert swedish["igar"] == "igår" and swedish["fa"] == "få"  # words no article needs to use
    assert accented_words("en") == {}  # "cafe" is as right as "café"
    assert accented_words("ru") == {}  # Cyrillic is never folded
    assert is_swedish_verb_form("sa") and is_swedish_verb_form("tog")  # "sa upp": cancelled
    assert not is_swedish_verb_form("gar")
