"""Bilingual lexicons: the open dictionaries' formats, the engine's TSV files, the learned lexicon.

Every dictionary here is a few lines written in its original format: real dictionaries are large
and carry their own licences, so none is kept in the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.dictionaries import read_dictionaries, write_tables
from search.document import Document, document_from_record
from search.index import SearchIndex
from search.kb_lexicon import learn_lexicon, source_lemma
from search.lexicon import Lexicon, LexiconError, load_lexicon_dir, read_lexicon_file
from tests.support.fakes import FakeEmbedder
from tests.support.dictionaries import DSL_RU, WIKTIONARY_SV, write_dsl, write_wiktionary_text

# English Wiktionary translation tables as text: `headword {pos} (gloss) :: translations`.
WORDNET_SWE = """\
# Wiktionary\tswe\thttp://wiktionary.org\tCC BY-SA
00001-n\tswe:lemma\tlösenord
00002-v\tswe:lemma\tskicka
00002-v\tswe:def\tatt sända något
00003-n\tswe:lemma\tpresentkort
"""
WORDNET_ENG = """\
# Wiktionary\teng\thttp://wiktionary.org\tCC BY-SA
00001-n\teng:lemma\tpassword
00002-v\teng:lemma\tsend
00002-v\teng:lemma\tdispatch
00003-n\teng:lemma\tgift_card
"""


def pairs_of(paths: list[Path]) -> dict[str, dict[tuple[str, str], float]]:
    return {f"{table.lang}/{table.kind}": dict(table.pairs) for table in read_dictionaries(paths)}


# --- Importing the dictionaries' own formats -----------------------------------------------------


def write_wordnet(folder: Path, swedish: str = WORDNET_SWE,
                  english: str | None = WORDNET_ENG) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "wn-wikt-swe.tab"]
    paths[0].write_text(swedish, encoding="utf-8")
    if english is not None:
        paths.append(folder / "wn-wikt-eng.tab")
        paths[1].write_text(english, encoding="utf-8")
    return paths


def test_wiktionary_text_is_inverted_without_genders_glosses_or_qualifiers(tmp_path: Path) -> None:
    pairs = pairs_of([write_wiktionary_text(tmp_path)])["sv/wiktionary"]
    assert pairs[("få", "get")] == pairs[("erhålla", "get")] == 1.0
    assert pairs[("får", "sheep")] == 1.0
    assert {("skicka", "send"), ("skicka", "post")} <= set(pairs)
    assert pairs[("skriva ut", "print")] == 1.0  # a phrase stays one entry
    assert ("gåva", "gift") in pairs and ("present", "gift") in pairs
    # `{n}`, `(gloss)` and `[formal]` never end up in a word; SEE: lines are cross-references.
    assert not any(mark in word for pair in pairs for word in pair for mark in "{}()[]")
    assert not any(english in ("colour", "color") for _, english in pairs)


def test_wiktionary_weights_count_the_sense_lines(tmp_path: Path) -> None:
    text = WIKTIONARY_SV + "send {v} (transmit) :: skicka, överföra\n"
    pairs = pairs_of([write_wiktionary_text(tmp_path, text)])["sv/wiktionary"]
    assert pairs[("skicka", "send")] == 2.0
    assert pairs[("sända", "send")] == 1.0


def test_dsl_russian_words_only_stress_and_transliteration_stripped(tmp_path: Path) -> None:
    pairs = pairs_of([write_dsl(tmp_path)])["ru/wiktionary"]
    assert pairs == {("отправить", "send"): 2.0,  # two sense lines
                     ("послать", "send"): 1.0,
                     ("заказ", "order"): 1.0,
                     ("пароль", "password"): 1.0}


def test_utf8_dsl_without_compression_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "en-ru-enwiktionary.dsl"
    path.write_text(DSL_RU, encoding="utf-8")
    assert pairs_of([path])["ru/wiktionary"][("пароль", "password")] == 1.0


def test_wordnet_joins_lemmas_through_shared_synsets(tmp_path: Path) -> None:
    pairs = pairs_of(write_wordnet(tmp_path / "omw"))["sv/omw"]
    assert pairs == {("lösenord", "password"): 1.0, ("skicka", "send"): 1.0,
                     ("skicka", "dispatch"): 1.0, ("presentkort", "gift card"): 1.0}


def test_folders_are_searched_by_file_name(tmp_path: Path) -> None:
    write_wiktionary_text(tmp_path / "dicts")
    write_dsl(tmp_path / "dicts" / "ru")
    write_wordnet(tmp_path / "dicts" / "omw")
    (tmp_path / "dicts" / "README.txt").write_text("not a dictionary", encoding="utf-8")
    assert sorted(pairs_of([tmp_path / "dicts"])) == ["ru/wiktionary", "sv/omw", "sv/wiktionary"]


def test_written_tables_load_back_as_one_lexicon(tmp_path: Path) -> None:
    tables = read_dictionaries([write_wiktionary_text(tmp_path / "in"), write_dsl(tmp_path / "in"),
                                *write_wordnet(tmp_path / "in")])
    written = write_tables(tables, tmp_path / "lexicons")
    assert written == {"ru-en.wiktionary.tsv": 4, "sv-en.omw.tsv": 4, "sv-en.wiktionary.tsv": 14}
    lexicon = load_lexicon_dir(tmp_path / "lexicons")
    assert lexicon.languages() == ["ru", "sv"]
    # Each file counts once per source word: skicka is send in both, post or dispatch in one.
    skicka = lexicon.senses("sv", "skicka")
    assert skicka["send"] == pytest.approx(1.0)
    assert skicka["post"] == pytest.approx(0.5) and skicka["dispatch"] == pytest.approx(0.5)
    assert lexicon.senses("ru", "отправить") == {"send": 1.0}
    only_swedish = load_lexicon_dir(tmp_path / "lexicons", languages=["sv"])
    assert only_swedish.languages() == ["sv"]


# --- Broken dictionary files: one clear error naming the file ------------------------------------

def test_wiktionary_line_without_separator_names_file_and_line(tmp_path: Path) -> None:
    path = write_wiktionary_text(tmp_path, "get {v} :: få\nsheep {n} får\n")
    with pytest.raises(LexiconError, match=r"en-sv-enwiktionary\.txt:2: not a Wiktionary"):
        read_dictionaries([path])


def test_dsl_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "en-ru-enwiktionary.dsl.dz"
    path.write_text("send\n\t[m1]отправить[/m]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"en-ru-enwiktionary\.dsl\.dz: not a readable dictzip"):
        read_dictionaries([path])


@pytest.mark.parametrize(("content", "error"), [
    ("", "no DSL"),
    ('{"name": "a JSON file, gzipped"}\n', "no DSL"),
    ("\t[m1]отправить[/m]\nsend\n", r"dsl\.dz:1: a translation line before any headword"),
], ids=["empty", "json", "translation-first"])
def test_gzip_that_is_not_dsl(tmp_path: Path, content: str, error: str) -> None:
    path = write_dsl(tmp_path, content)
    with pytest.raises(LexiconError, match=error) as raised:
        read_dictionaries([path])
    assert str(path) in str(raised.value)


def test_wordnet_line_with_wrong_columns_names_file_and_line(tmp_path: Path) -> None:
    paths = write_wordnet(tmp_path, swedish=WORDNET_SWE + "00004-n lösenord\n")
    with pytest.raises(LexiconError, match=r"wn-wikt-swe\.tab:6: expected 'synset<TAB>lang:lemma"):
        read_dictionaries(paths)


def test_wordnet_without_english_lemmas(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"English lemmas too \(a wn-\*-eng\.tab file\)"):
        read_dictionaries(write_wordnet(tmp_path, english=None))


def test_missing_source_and_folder_without_dictionaries(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"nowhere\.txt: no such file"):
        read_dictionaries([tmp_path / "nowhere.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(LexiconError, match="no dictionary files found"):
        read_dictionaries([tmp_path / "empty"])


# --- The engine's own TSV files ------------------------------------------------------------------

def write_tsv(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_rows_comments_and_normalization(tmp_path: Path) -> None:
    write_tsv(tmp_path, "sv-en.mine.tsv", "# my words\nSkicka\tsend\t3\nskicka\tpost\t1\n\n")
    write_tsv(tmp_path, "ru-en.mine.tsv", "паро\u0301ль\tpassword\t2\n")
    write_tsv(tmp_path, "notes.tsv", "this\tis not\ta lexicon\tat all\n")  # ignored: not <src>-en
    lexicon = load_lexicon_dir(tmp_path)
    assert lexicon.senses("sv", "skicka") == {"send": 0.75, "post": 0.25}
    assert lexicon.senses("ru", "пароль") == {"password": 1.0}  # stress mark dropped
    assert ("sv", "skicka") in lexicon and ("sv", "posta") not in lexicon
    assert load_lexicon_dir(tmp_path / "missing").entries == {}


@pytest.mark.parametrize(("row", "error"), [
    ("skicka\tsend", r"sv-en\.bad\.tsv:2: expected 'source<TAB>english<TAB>weight', found 2"),
    ("skicka\tsend\tmany", r"sv-en\.bad\.tsv:2: weight 'many' is not a number"),
    ("skicka\tsend\t-1", r"sv-en\.bad\.tsv:2: weight must be a positive number"),
    ("skicka\tsend\tnan", r"sv-en\.bad\.tsv:2: weight must be a positive number"),
], ids=["columns", "text-weight", "negative", "nan"])
def test_tsv_malformed_row_names_file_and_line(tmp_path: Path, row: str, error: str) -> None:
    write_tsv(tmp_path, "sv-en.bad.tsv", f"få\tget\t1\n{row}\n")
    with pytest.raises(LexiconError, match=error):
        load_lexicon_dir(tmp_path)


def test_tsv_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "sv-en.latin1.tsv").write_bytes("lösenord\tpassword\t1\n".encode("latin-1"))
    with pytest.raises(LexiconError, match=r"sv-en\.latin1\.tsv: not UTF-8"):
        read_lexicon_file(tmp_path / "sv-en.latin1.tsv")


def test_merge_and_scale_keep_the_originals() -> None:
    imported, learned = Lexicon(), Lexicon()
    imported.add("sv", [("skicka", "send", 1.0)])
    learned.add("sv", [("skicka", "send", 1.0), ("skicka", "ship", 1.0)])
    merged = imported.merge(learned.scaled(0.5))
    assert merged.senses("sv", "skicka") == {"send": 1.25, "ship": 0.25}
    assert imported.senses("sv", "skicka") == {"send": 1.0}
    assert learned.senses("sv", "skicka") == {"send": 0.5, "ship": 0.5}


# --- The lexicon learned from the knowledge base's translated articles ---------------------------

# The same article in English and Swedish, line by line; only `lösenord` and `password` (and the
# other real translations) occur in the same lines often enough to be paired.
TRANSLATED = [
    ("change-password", "Change your password", "Byt ditt lösenord",
     ["Open the account settings.", "Choose a new password.",
      "Your password needs twelve letters."],
     ["Öppna kontoinställningarna.", "Välj ett nytt lösenord.",
      "Ditt lösenord behöver tolv tecken."]),
    ("forgot-password", "Forgot your password", "Glömt ditt lösenord",
     ["Click the link in the email.", "Type a new password twice.", "Sign in again."],
     ["Klicka på länken i mejlet.", "Skriv ett nytt lösenord två gånger.", "Logga in igen."]),
    ("invoices", "Download invoices", "Ladda ner fakturor",
     ["Open the billing page.", "Click the link next to the invoice."],
     ["Öppna faktureringssidan.", "Klicka på länken bredvid fakturan."]),
]


@pytest.fixture
def translated_documents() -> list[Document]:
    documents = []
    for slug, en_title, sv_title, en_lines, sv_lines in TRANSLATED:
        for lang, title, lines in (("en", en_title, en_lines), ("sv", sv_title, sv_lines)):
            documents.append(document_from_record({"id": f"{lang}/{slug}", "lang": lang,
                                                   "group": slug, "title": title,
                                                   "body": "\n".join(lines)}))
    return documents


def test_learns_words_that_share_lines_with_their_translation(
        translated_documents: list[Document]) -> None:
    lexicon = learn_lexicon(translated_documents)
    assert lexicon.languages() == ["sv"]
    password = lexicon.senses("sv", "lösenord")
    assert max(password, key=password.get) == "password"
    link = lexicon.senses("sv", "länken")
    assert max(link, key=link.get) == "link"
    assert "password" not in lexicon.senses("sv", "länken")
    # Once is not evidence: `tecken` shares a single line with `letters`.
    assert ("sv", "tecken") not in lexicon
    assert learn_lexicon(translated_documents, languages=["ru"]).entries == {}


@pytest.fixture
def customers_and_accounts() -> list[Document]:
    """«kunder» shares two of its three lines with "account" (Dice .67), as «kontot» does (.8)."""
    lines = [("Customers can close the account.", "Kunder kan stänga kontot."),
             ("Customers can open an account.", "Kunder kan öppna ett konto."),
             ("Customers get a receipt.", "Kunder får ett kvitto."),
             ("Delete the account.", "Radera kontot.")]
    return [document_from_record({"id": f"{lang}/help", "lang": lang, "group": "help",
                                  "title": title, "body": "\n".join(pair[side] for pair in lines)})
            for side, (lang, title) in enumerate((("en", "Help"), ("sv", "Hjälp")))]


def test_a_word_that_only_came_along_is_not_learned(customers_and_accounts: list[Document]) -> None:
    """Co-occurrence alone would learn that «kunder» means "account". In every line «kunder» is
    linked first to the words it goes with more strongly ("customers", and "can", which no
    Swedish word of the line takes: «kan» is a stopword), so "account" goes to «kontot» or
    «konto»."""
    lexicon = learn_lexicon(customers_and_accounts)
    customers = lexicon.senses("sv", source_lemma("kunder", "sv"))
    assert max(customers, key=customers.get) == "customers"
    assert "account" not in customers
    assert "account" in lexicon.senses("sv", source_lemma("kontot", "sv"))


def test_segments_too_large_to_link_are_paired_by_dice_alone(
        customers_and_accounts: list[Document], monkeypatch: pytest.MonkeyPatch) -> None:
    import search.kb_lexicon as kb_lexicon

    monkeypatch.setattr(kb_lexicon, "MAX_LINKED_PAIRS", 0)
    customers = learn_lexicon(customers_and_accounts).senses("sv", source_lemma("kunder", "sv"))
    assert "account" in customers


def test_untranslated_articles_teach_nothing(translated_documents: list[Document]) -> None:
    english_only = [d for d in translated_documents if d.lang == "en"]
    swedish_renamed = [document_from_record({"id": f"sv/other-{d.slug}", "lang": "sv",
                                             "group": f"other-{d.slug}", "title": d.title,
                                             "body": d.text})
                       for d in translated_documents if d.lang == "sv"]
    assert learn_lexicon(english_only + swedish_renamed).entries == {}


def test_learned_lexicon_is_saved_with_the_index(tmp_path: Path,
                                                 translated_documents: list[Document]) -> None:
    index = SearchIndex.build(translated_documents, FakeEmbedder())
    assert "password" in index.lexicon.senses("sv", "lösenord")
    index.save(tmp_path / "index")
    saved = tmp_path / "index" / "lexicon" / "sv-en.kb.tsv"
    assert "lösenord\tpassword\t" in saved.read_text(encoding="utf-8")
    loaded = SearchIndex.load(tmp_path / "index")
    assert loaded.lexicon.senses("sv", "lösenord") == pytest.approx(
        index.lexicon.senses("sv", "lösenord"), abs=1e-3)
    assert loaded.lexicon.size("sv") == index.lexicon.size("sv") > 0


def test_damaged_saved_lexicon_makes_the_index_unusable(
        tmp_path: Path, translated_documents: list[Document]) -> None:
    from search.index import UnusableIndexError

    SearchIndex.build(translated_documents, FakeEmbedder()).save(tmp_path / "index")
    with open(tmp_path / "index" / "lexicon" / "sv-en.kb.tsv", "a", encoding="utf-8") as out:
        out.write("broken row\n")
    with pytest.raises(UnusableIndexError, match=r"damaged .*sv-en\.kb\.tsv:\d+"):
        SearchIndex.load(tmp_path / "index")
