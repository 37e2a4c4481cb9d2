"""`kb gaps` lists what customers asked and found no answer to; `kb gaps draft N` starts the article."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kb.cli import main
from kb.db import Database
from kb.gap_draft import slug_from, title_from
from kb.models import Event, Ticket
from search.collection import load_articles

UTC = dt.timezone.utc


def unanswered(session_id: str, lang: str, question: str) -> Event:
    return Event(session_id=session_id, type="search", lang=lang, query=question,
                 created_at=dt.datetime(2026, 11, 20, 10, tzinfo=UTC),
                 data={"abstained": True, "results": []})


@pytest.fixture
def env(tmp_path: Path, database_url: str, fake_model: str) -> dict[str, str]:
    database = Database(database_url)
    database.upgrade()
    with database.session() as session:
        session.add_all([
            unanswered("a", "sv", "Hur installerar jag Driftbox på Linux terminal"),
            unanswered("b", "sv", "installera Driftbox Linux kommando terminal"),
            unanswered("c", "ru", "как установить Driftbox в терминал linux"),
            unanswered("d", "en", "password"),
            Ticket(email="eva@example.se", lang="sv", subject="Installera på Linux",
                   message="Terminalen säger fel. Ring mig på 070-123 45 67 eller "
                           "mejla eva@example.se",
                   created_at=dt.datetime(2026, 11, 21, 9, tzinfo=UTC),
                   suggestions_shown=[], suggestions_opened=[])])
    database.dispose()
    return {"KB_DATABASE_URL": database_url, "KB_MODEL": fake_model,
            "KB_INSTANCE_PATH": str(tmp_path / "instance")}


def test_gaps_lists_clusters_biggest_first(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(main, ["gaps"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("  1. 4 x [ru 1, sv 3]")
    assert any(line.startswith("  2. 1 x [en 1] password") for line in lines)
    assert "eva@example.se" not in result.output and "070-123" not in result.output
    assert "kb gaps draft N" in result.output


def test_gaps_draft_writes_a_draft_kb_check_accepts_and_nothing_serves(
        runner: CliRunner, env: dict[str, str], tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    result = runner.invoke(main, ["gaps", "draft", "1", "--articles-dir", str(articles)], env=env)
    assert result.exit_code == 0, result.output
    [path] = (articles / "sv").glob("*.md")  # three of four questions were Swedish
    text = path.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["status"] == "draft"
    assert front["title"] == title_from(front["title"]) and "Linux" in front["title"]
    assert path.stem == slug_from(front["title"])
    assert {"linux", "terminal"} <= set(front["tags"]) and "jag" not in front["tags"]
    comment = text.split("<!--", 1)[1].split("-->", 1)[0]
    assert "как установить Driftbox в терминал linux" in comment
    assert "[phone]" in comment and "[email]" in comment
    assert "eva@example.se" not in text and "070-123" not in text

    check = runner.invoke(main, ["check", str(articles)], env=env)
    assert check.exit_code == 0, check.output
    loaded = load_articles(articles, ("en", "sv", "ru"))
    assert [a.status for a in loaded.articles] == ["draft"] and loaded.published() == []

    again = runner.invoke(main, ["gaps", "draft", "1", "--articles-dir", str(articles)], env=env)
    assert again.exit_code == 0 and len(list((articles / "sv").glob("*.md"))) == 2
    missing = runner.invoke(main, ["gaps", "draft", "9"], env=env)
    assert missing.exit_code == 2 and "there are 2 gaps" in missing.output


def test_titles_and_slugs_in_every_language() -> None:
    assert title_from("как установить driftbox? помогите") == "Как установить driftbox?"
    assert slug_from("Как установить Driftbox") == "kak-ustanovit-driftbox"
    assert slug_from("Återställ lösenordet") == "aterstall-losenordet"
    assert len(title_from("word " * 40)) <= 80
