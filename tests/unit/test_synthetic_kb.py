"""The synthetic help centers of the scale benchmark: the same every time, exactly the size asked
for, and articles that `kb check` accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.synthetic_kb import LANGUAGES, questions, write_knowledge_base
from kb.cli import main
from search import document_from_article, load_articles


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def test_the_same_seed_writes_the_same_files_and_another_seed_other_ones(tmp_path: Path) -> None:
    write_knowledge_base(tmp_path / "a", 120, seed=3)
    write_knowledge_base(tmp_path / "b", 120, seed=3)
    write_knowledge_base(tmp_path / "c", 120, seed=4)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert files_of(tmp_path / "a") != files_of(tmp_path / "c")


@pytest.mark.parametrize("chunks", [1, 7, 250])
def test_the_chunker_makes_exactly_the_chunks_asked_for(tmp_path: Path, chunks: int) -> None:
    count = write_knowledge_base(tmp_path, chunks)
    articles = load_articles(tmp_path, list(LANGUAGES))
    assert len(articles.articles) == count
    assert sum(len(document_from_article(a).chunks) for a in articles.published()) == chunks


def test_articles_are_in_every_language_with_sections_and_steps(tmp_path: Path) -> None:
    write_knowledge_base(tmp_path, 200)
    articles = load_articles(tmp_path, list(LANGUAGES))
    assert {a.lang for a in articles.articles} == set(LANGUAGES)
    first = articles.articles[0]
    assert first.title and first.summary and first.tags
    assert len([s for s in first.sections if s.heading]) >= 3
    assert "\n1. " in (tmp_path / first.lang / f"{first.slug}.md").read_text(encoding="utf-8")


def test_kb_check_finds_no_error(runner: CliRunner, tmp_path: Path) -> None:
    write_knowledge_base(tmp_path / "articles", 300)
    result = runner.invoke(main, ["check", str(tmp_path / "articles"), "--json"])
    assert result.exit_code == 0, result.output
    problems = json.loads(result.output)
    assert problems, "the report lists the warnings (untranslated articles), so it was read"


def test_questions_are_distinct_and_take_the_languages_in_turn() -> None:
    asked = questions(90)
    assert len({text for text, _ in asked}) == 90
    assert [lang for _, lang in asked[:6]] == [*LANGUAGES, *LANGUAGES]
    assert questions(90) == asked
