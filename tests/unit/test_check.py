"""Every `kb check` rule, each with a fixture article that breaks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import main
from search.article import content_hash
from search.check import CheckRules, check_articles
from search.collection import load_articles
from search.problem import Problem, Severity
from tests.support.articles import article_text, WriteArticle

LANGS = ("en", "sv", "ru")


def problems_of(root: Path, rules: CheckRules | None = None) -> list[Problem]:
    return check_articles(load_articles(root, LANGS), rules)


def codes(problems: list[Problem]) -> dict[str, Problem]:
    return {p.code: p for p in problems}


def test_clean_article_has_no_problems(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    write_article("sv", "reset-password", title="Återställ lösenordet",
                  summary="Be om en länk och välj ett nytt lösenord.",
                  source_hash=content_hash("Reset your password",
                                           "Ask for a reset link and choose a new password.",
                                           article_text().split("---\n", 2)[2]))
    write_article("ru", "reset-password", title="Сброс пароля",
                  summary="Запросите ссылку и придумайте новый пароль.")
    found = problems_of(articles_dir)
    # Only the unstamped Russian translation is reported.
    assert [p.code for p in found] == ["translation-unstamped"]


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("title: No fences\n\nBody", "missing-front-matter", 1),
        ("---\ntitle: Never closed\n\nBody", "unclosed-front-matter", 1),
        ("---\ntitle: ok\nsummary: [unclosed\n---\nBody", "bad-front-matter", 3),
        ("---\n- just\n- a list\n---\nBody", "bad-front-matter", 2),
        ("---\nsummary: no title here\n---\nBody", "missing-title", 2),
        ("---\ntitle: Draft-ish\nstatus: archived\n---\nBody", "unknown-status", 3),
        ("---\ntitle: Dated\nupdated: last tuesday\n---\nBody", "bad-updated", 3),
        ("---\ntitle: Tagged\ntags: {a: 1}\n---\nBody", "bad-tags", 3),
        ("---\ntitle: Dated\nupdated: 2026-02-30\n---\nBody", "bad-front-matter", 2),
        ("---\ntitle: !!int abc\n---\nBody", "bad-front-matter", 2),
    ],
)
def test_front_matter_errors(articles_dir: Path, write_article: WriteArticle,
                             text: str, code: str, line: int) -> None:
    path = write_article("en", "broken", text=text)
    problem = codes(problems_of(articles_dir))[code]
    assert problem.severity is Severity.ERROR
    assert problem.path == path
    assert problem.line == line


def test_invalid_utf8_names_the_line(articles_dir: Path, write_article: WriteArticle) -> None:
    data = article_text().encode() + "Ett ord med å i Latin-1: ".encode() + "å".encode("latin-1")
    write_article("en", "latin1", text=data)
    problem = codes(problems_of(articles_dir))["invalid-utf8"]
    assert problem.line == data.count(b"\n") + 1
    assert "UTF-8" in problem.message


def test_unreadable_file(articles_dir: Path, write_article: WriteArticle,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_article("en", "locked")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    # Root can read any file, so a chmod would not make it unreadable in CI.
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    problem = codes(problems_of(articles_dir))["unreadable"]
    assert "Permission denied" in problem.message


def test_unknown_language_folder(articles_dir: Path, write_article: WriteArticle) -> None:
    path = write_article("de", "passwort", title="Passwort")
    problem = codes(problems_of(articles_dir))["unknown-language"]
    assert problem.path == path
    assert "'de'" in problem.message


def test_duplicate_slug_within_a_language(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    (articles_dir / "en" / "account").mkdir()
    dup = articles_dir / "en" / "account" / "reset-password.md"
    dup.write_text(article_text(), encoding="utf-8")
    problem = codes(problems_of(articles_dir))["duplicate-slug"]
    assert {problem.path, Path(problem.message.split("used by ")[1].split(";")[0])} == {
        dup, articles_dir / "en" / "reset-password.md"}
    assert len(load_articles(articles_dir, LANGS).articles) == 1


def test_bad_slug(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "Reset Password")
    assert "bad-slug" in codes(problems_of(articles_dir))


def test_link_to_missing_article(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    write_article("en", "sign-in", body="Intro.\n\nSee [reset](reset-password.md).\n\n"
                                        "Or [this](no-such-article.md).\n")
    found = [p for p in problems_of(articles_dir) if p.code == "broken-link"]
    assert len(found) == 1
    assert "no-such-article" in found[0].message
    assert found[0].line == 10  # front matter 1-4, blank 5, body lines 6-10


def test_link_to_other_language_checked_in_that_language(articles_dir: Path,
                                                         write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    write_article("sv", "sign-in", body="Se [engelska](../en/reset-password.md) och "
                                        "[ryska](../ru/reset-password.md).\n")
    found = [p for p in problems_of(articles_dir) if p.code == "broken-link"]
    assert [("ru/reset-password" in p.message) for p in found] == [True]


def test_translation_missing(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    write_article("sv", "reset-password", title="Återställ", source_hash="x")
    found = [p for p in problems_of(articles_dir) if p.code == "translation-missing"]
    assert len(found) == 1 and "Russian" in found[0].message
    assert found[0].severity is Severity.WARNING


def test_draft_source_needs_no_translation(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "reset-password", status="draft")
    assert "translation-missing" not in codes(problems_of(articles_dir))


def test_translation_stale_after_source_edit(articles_dir: Path,
                                             write_article: WriteArticle) -> None:
    source = write_article("en", "reset-password")
    write_article("sv", "reset-password", title="Återställ")
    runner = CliRunner()
    result = runner.invoke(main, ["stamp", "sv/reset-password", "--articles-dir", str(articles_dir)])
    assert result.exit_code == 0, result.output
    assert "translation-stale" not in codes(problems_of(articles_dir))
    source.write_text(source.read_text() + "\n3. A new step.\n", encoding="utf-8")
    stale = codes(problems_of(articles_dir))["translation-stale"]
    assert "kb stamp sv/reset-password" in stale.message


def test_summary_missing_and_too_long(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "no-summary", summary=None)
    write_article("en", "long-summary", summary="One. Two. Three sentences are too many.")
    write_article("en", "wordy-summary", summary="x" * 201)
    found = problems_of(articles_dir)
    by_file = {(p.path.stem, p.code) for p in found}
    assert ("no-summary", "summary-missing") in by_file
    assert ("long-summary", "summary-too-long") in by_file
    assert ("wordy-summary", "summary-too-long") in by_file


HARD_EN = ("The authentication infrastructure necessitates comprehensive verification of "
           "organizational credentials, notwithstanding intermittent synchronization "
           "irregularities attributable to heterogeneous configuration environments.\n")
HARD_SV = ("Autentiseringsinfrastrukturen kräver omfattande verifieringsprocedurer beträffande "
           "organisationsövergripande behörighetsuppgifter, oaktat synkroniseringsproblematik.\n")
HARD_RU = ("Аутентификационная инфраструктура предусматривает всестороннюю верификацию "
           "организационных учётных данных, невзирая на периодические синхронизационные "
           "нарушения, обусловленные неоднородностью конфигурационных сред.\n")


@pytest.mark.parametrize(("lang", "body", "formula"), [
    ("en", HARD_EN, "Flesch"), ("sv", HARD_SV, "LIX"), ("ru", HARD_RU, "Oborneva"),
])
def test_readability_too_hard(articles_dir: Path, write_article: WriteArticle,
                              lang: str, body: str, formula: str) -> None:
    write_article(lang, "hard", body=body)
    write_article(lang, "easy", body="Click Sign in. Type your email. Click Send.\n"
                  if lang == "en" else "Klicka på Logga in. Skriv din mejl.\n"
                  if lang == "sv" else "Нажмите «Войти». Введите почту.\n")
    found = [p for p in problems_of(articles_dir) if p.code == "hard-to-read"]
    assert [p.path.stem for p in found] == ["hard"]
    assert formula in found[0].message


def test_readability_threshold_is_a_setting(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "hard", body=HARD_EN)
    lenient = CheckRules(readability_limits={"en": -1000.0})
    assert "hard-to-read" not in codes(problems_of(articles_dir, lenient))


def test_unknown_field_suggests_the_right_name(articles_dir: Path,
                                               write_article: WriteArticle) -> None:
    write_article("en", "typo", sumary="Oops")
    problem = codes(problems_of(articles_dir))["unknown-field"]
    assert "did you mean 'summary'" in problem.message


def test_cli_prints_path_line_message_and_exits_1_on_error(
        runner: CliRunner, articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "broken", text="---\ntitle: x\nstatus: archived\n---\nBody")
    result = runner.invoke(main, ["check", str(articles_dir)])
    assert result.exit_code == 1
    assert "articles/en/broken.md:3: error: unknown status 'archived'" in result.output
    assert result.output.strip().splitlines()[-1].endswith("1 error, 0 warnings")


def test_cli_exits_0_on_warnings_only(runner: CliRunner, articles_dir: Path,
                                      write_article: WriteArticle) -> None:
    write_article("en", "no-summary", summary=None)
    result = runner.invoke(main, ["check", str(articles_dir)])
    assert result.exit_code == 0
    assert "warning" in result.output


def test_cli_json_output(runner: CliRunner, articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "broken", text="no front matter")
    result = runner.invoke(main, ["check", str(articles_dir), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["summary"]["errors"] == 1
    assert data["problems"][0] == {
        "path": "articles/en/broken.md", "line": 1, "severity": "error",
        "code": "missing-front-matter", "message": data["problems"][0]["message"]}


def test_missing_articles_folder_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["check", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "articles folder not found" in result.output


def test_stamp_keeps_bom_and_crlf(runner: CliRunner, articles_dir: Path,
                                  write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    path = articles_dir / "sv" / "reset-password.md"
    path.write_bytes(("\ufeff" + article_text(title="Återställ")).replace("\n", "\r\n").encode())
    result = runner.invoke(main, ["stamp", "sv/reset-password", "--articles-dir", str(articles_dir)])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode()) and b"\r\nsource_hash: " in data
    assert "translation-stale" not in codes(problems_of(articles_dir))


# --- a broken file among others, one file at a time, and what sanitizing removes -------------

UNCLOSED_TAGS = "---\ntitle: Reset\ntags: [password, sign in\nstatus: published\n---\nBody\n"


def test_an_unclosed_bracket_is_reported_on_its_own_line_with_the_right_hint(
        articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "broken", text=UNCLOSED_TAGS)
    problem = codes(problems_of(articles_dir))["bad-front-matter"]
    assert problem.line == 3  # the tags line, not the status line after it
    assert "']'" in problem.message and "colon" not in problem.message


def test_an_unclosed_quote_names_the_quote(articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "broken", text='---\ntitle: "Reset\nstatus: published\n---\nBody\n')
    problem = codes(problems_of(articles_dir))["bad-front-matter"]
    assert problem.line == 2 and "quote is not closed" in problem.message


def test_links_to_a_file_with_an_error_say_so_instead_of_missing(
        articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "broken", text=UNCLOSED_TAGS)
    linking = write_article("en", "linking", body="See [the other](broken.md).\n")
    found = [p for p in problems_of(articles_dir)
             if p.path == linking and p.severity is Severity.ERROR]
    assert [p.code for p in found] == ["link-to-broken-article"]
    assert "does not exist" not in found[0].message
    assert "articles/en/broken.md" in found[0].message and "has an error" in found[0].message


def test_the_summary_counts_a_file_that_could_not_be_loaded(
        runner: CliRunner, articles_dir: Path, write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    write_article("en", "broken", text=UNCLOSED_TAGS)
    result = runner.invoke(main, ["check", str(articles_dir)])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("2 articles checked (en 2, sv 0, ru 0, 1 not served until fixed)"), last
    data = json.loads(runner.invoke(main, ["check", str(articles_dir), "--json"]).output)
    assert data["summary"]["articles"] == 2 and data["summary"]["unloaded"] == 1


def test_check_accepts_one_article_file(runner: CliRunner, articles_dir: Path,
                                        write_article: WriteArticle) -> None:
    write_article("en", "reset-password")
    write_article("en", "other", body="See [reset](reset-password.md) and [gone](gone.md).\n")
    write_article("en", "noisy", summary=None)
    result = runner.invoke(main, ["check", str(articles_dir / "en" / "other.md")])
    assert result.exit_code == 1, result.output
    assert "en/other.md:6: error: link 'gone.md'" in result.output
    assert "noisy" not in result.output  # only the file asked about is reported
    assert result.output.strip().splitlines()[-1] == "1 article checked (en 1): 1 error, 2 warnings"
    clean = runner.invoke(main, ["check", str(articles_dir / "en" / "reset-password.md")])
    assert "1 article checked (en 1)" in clean.output


def test_check_refuses_a_file_outside_a_language_folder(runner: CliRunner,
                                                        tmp_path: Path) -> None:
    stray = tmp_path / "notes.md"
    stray.write_text(article_text(), encoding="utf-8")
    result = runner.invoke(main, ["check", str(stray)])
    assert result.exit_code == 2 and "not inside a language folder" in result.output


@pytest.mark.parametrize(("body", "line", "what"), [
    ("Intro.\n\n<script>alert(1)</script>\n", 8, "<script>"),
    ("Intro.\n\n<iframe src=\"https://x.example\"></iframe>\n", 8, "<iframe>"),
    ("Intro.\n\n<form action=\"/x\"></form>\n", 8, "<form>"),
    ("Intro.\n\nClick <b onclick=\"steal()\">here</b>.\n", 8, "onclick attribute"),
    ("Intro.\n\nA [bad link](javascript:alert(1)) here.\n", 8, "javascript: link"),
    ("Intro.\n\n<a href=\"javascript:alert(1)\">x</a>\n", 8, "javascript: address"),
])
def test_sanitizing_warns_naming_the_line(articles_dir: Path, write_article: WriteArticle,
                                          body: str, line: int, what: str) -> None:
    path = write_article("en", "unsafe", body=body)
    found = [p for p in problems_of(articles_dir) if p.code == "sanitized"]
    assert len(found) == 1, found
    assert found[0].path == path and found[0].line == line and what in found[0].message
    assert found[0].severity is Severity.WARNING


def test_safe_html_and_links_are_not_reported(articles_dir: Path,
                                              write_article: WriteArticle) -> None:
    write_article("en", "safe", body="Press <kbd>Ctrl</kbd>, see <a href=\"https://x.example\">"
                                     "this</a> or [that](https://y.example).\n")
    assert "sanitized" not in codes(problems_of(articles_dir))


@pytest.mark.parametrize(("content", "line"), [
    ("account: [Konto\n", 2),  # not YAML: the parser stops at the end
    ("- Konto\n- Filer\n", 1),  # a list, not category: name
    ("account:\n", 1),  # a category without a name
])
def test_a_broken_topics_file_is_a_problem_and_its_names_are_not_used(
        articles_dir: Path, write_article: WriteArticle, content: str, line: int) -> None:
    write_article("sv", "reset-password", title="Återställ lösenordet", category="account")
    (articles_dir / "sv" / "topics.yml").write_text(content, encoding="utf-8")
    articles = load_articles(articles_dir, LANGS)
    problem = codes(articles.problems)["bad-topics"]
    assert problem.severity is Severity.ERROR and problem.line == line
    assert "account: Konto" in problem.message  # says how to write it
    assert articles.topic_name("sv", "account") == "Account"


def test_topic_names_are_read_per_language(articles_dir: Path,
                                           write_article: WriteArticle) -> None:
    write_article("sv", "reset-password", title="Återställ lösenordet", category="sign-in")
    (articles_dir / "sv" / "topics.yml").write_text("sign-in: Inloggning\n", encoding="utf-8")
    articles = load_articles(articles_dir, LANGS)
    assert articles.problems == []
    assert articles.topic_name("sv", "sign-in") == "Inloggning"
    # Without a name of its own, a category reads as itself.
    assert articles.topic_name("ru", "sign-in") == "Sign in"
