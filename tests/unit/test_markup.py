"""Article HTML ends up inside customers' pages: it must be safe, and headings must be linkable."""

from __future__ import annotations

from search.markup import parse_link, render_markdown


def test_scripts_event_handlers_and_javascript_urls_are_removed() -> None:
    body = ("Hello <script>alert(1)</script>\n\n"
            '<img src="x.png" onerror="alert(2)">\n\n'
            '[click](javascript:alert(3)) and <a href="javascript:alert(4)">raw</a>\n\n'
            '<iframe src="https://evil.example"></iframe>\n')
    html = render_markdown(body, "en").html
    assert "<script" not in html and "alert(1)" not in html
    assert "onerror" not in html
    assert "href=\"javascript:" not in html and "href='javascript:" not in html
    assert "<iframe" not in html
    assert '<img src="x.png">' in html


def test_headings_become_anchors_and_sections() -> None:
    rendered = render_markdown("Intro.\n\n## Reset it\n\nStep one.\n\n## Reset it\n\nAgain.\n", "en")
    assert '<h2 id="reset-it">' in rendered.html
    assert [h.anchor for h in rendered.headings] == ["reset-it", "reset-it-1"]
    assert [s.heading for s in rendered.sections] == [None, "Reset it", "Reset it"]
    assert rendered.sections[1].text == "Step one."


def test_article_links_are_rewritten_and_recorded() -> None:
    rendered = render_markdown("See [reset](reset-password.md#steps) and "
                               "[English](../en/team-accounts.md).\n", "sv",
                               link_template="/help/{lang}/{slug}")
    assert 'href="/help/sv/reset-password#steps"' in rendered.html
    assert 'data-kb-slug="reset-password"' in rendered.html
    assert 'href="/help/en/team-accounts"' in rendered.html
    assert [(link.slug, link.lang, link.anchor) for link in rendered.links] == [
        ("reset-password", None, "steps"), ("team-accounts", "en", None)]


def test_external_links_are_not_article_links() -> None:
    assert parse_link("https://driftbox.com/help.md") is None
    assert parse_link("mailto:support@driftbox.com") is None
    assert parse_link("#steps") is None
    assert parse_link("reset-password.md") == ("reset-password", None, None)


def test_code_blocks_are_searchable_text() -> None:
    rendered = render_markdown("## Install\n\n```\nsudo apt install ./driftbox.deb\n```\n", "en")
    assert "sudo apt install ./driftbox.deb" in rendered.sections[-1].text
