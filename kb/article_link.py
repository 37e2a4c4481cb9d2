"""Links between articles that stay in the reader's language wherever a version exists."""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import escape

# Links to other articles carry their target (see search/markup.py): data-kb-slug, data-kb-lang.
_ARTICLE_LINK_TAG = re.compile(r'<a\b[^>]*\bdata-kb-slug="(?P<slug>[a-z0-9-]+)"[^>]*>')
_LINK_LANG = re.compile(r'\bdata-kb-lang="(?P<lang>[^"]*)"')
_HREF = re.compile(r'\bhref="[^"]*"')


def localize_links(html: str, lang: str, has_version: Callable[[str, str], bool],
                   link_template: str) -> str:
    """Point every article link in `html` at the `lang` version of its target when
    `has_version(lang, slug)`; other links are left as they are.

    A link's `#anchor` is dropped when its language changes: headings, and so anchors, are
    translated too.
    """

    def rewrite(match: re.Match[str]) -> str:
        tag, slug = match.group(0), match.group("slug")
        current = _LINK_LANG.search(tag)
        if (current and current.group("lang") == lang) or not has_version(lang, slug):
            return tag
        href = escape(link_template.format(lang=lang, slug=slug))
        tag = _HREF.sub(lambda _m: f'href="{href}"', tag, count=1)
        return _LINK_LANG.sub(lambda _m: f'data-kb-lang="{escape(lang)}"', tag, count=1)

    return _ARTICLE_LINK_TAG.sub(rewrite, html)
