from __future__ import annotations

from pathlib import Path

from search.article import parse_article
from search.chunk import chunk_article, chunk_text
from tests.support.articles import article_text


def test_chunks_follow_headings_and_keep_context(tmp_path: Path) -> None:
    body = "Intro line.\n\n## Steps to take\n\n1. Click Sign in.\n\n## If it fails\n\nWait 15 minutes.\n"
    article, _ = parse_article(tmp_path / "reset.md", "en", article_text(body=body).encode())
    chunks = chunk_article(article)
    assert [c.anchor for c in chunks] == ["", "steps-to-take", "if-it-fails"]
    assert [c.heading for c in chunks] == ["", "Steps to take", "If it fails"]
    assert all(c.article_id == "en/reset" and c.lang == "en" for c in chunks)
    assert chunks[2].text == "Wait 15 minutes."
    # Title and summary travel with every chunk, so "If it fails" is about passwords.
    assert chunks[2].embed_text.startswith("Reset your password\nAsk for a reset link")


def test_unicode_heading_anchor(tmp_path: Path) -> None:
    body = "## Så byter du lösenord\n\nText.\n"
    article, _ = parse_article(tmp_path / "x.md", "sv", article_text(body=body).encode())
    assert chunk_article(article)[0].anchor == "så-byter-du-lösenord"


def test_long_sections_are_windowed_with_overlap() -> None:
    sentences = [f"Sentence number {i} has six words." for i in range(60)]
    chunks = chunk_text("en/long", "en", "Long", "", [("", "", " ".join(sentences))],
                        max_words=60, overlap=12)
    assert len(chunks) > 4
    assert all(len(c.text.split()) <= 60 for c in chunks)
    first, second = chunks[0].text.split(". "), chunks[1].text.split(". ")
    assert first[-1].rstrip(".") == second[0].rstrip(".") or first[-2] in second[0:2]
    covered = " ".join(c.text for c in chunks)
    assert all(s in covered for s in sentences)
