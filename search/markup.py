"""Markdown to safe HTML, plus the structure the index needs (headings, sections, links).

Article HTML ends up inside customers' pages (the widget shows it inline), so everything the
CommonMark parser produces goes through an allow-list sanitizer before anyone sees it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin

# Headings at these levels split an article into sections (chunks) and get anchors.
SECTION_LEVELS = (2, 3)

# `reset-password.md`, `reset-password.md#steps`, `../sv/reset-password.md`
_ARTICLE_LINK = re.compile(
    r"^(?:(?:\.\./)+(?P<lang>[a-z]{2,3}(?:[-_][A-Za-z]+)?)/)?(?:[^/#?]+/)*"
    r"(?P<slug>[^/#?]+)\.md(?:#(?P<anchor>[^?]*))?$"
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "data-kb-slug", "data-kb-lang"},
    "img": {"src", "alt", "title", "width", "height"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
    "ol": {"start"},
    "td": {"align"}, "th": {"align"},
    "code": {"class"},
}


@dataclass(frozen=True)
class Heading:
    """A section heading with the anchor used for deep links."""

    level: int
    text: str
    anchor: str
    line: int  # 1-based, relative to the markdown body


@dataclass(frozen=True)
class ArticleLink:
    """A link from one article to another, written as a relative `.md` path."""

    href: str
    slug: str
    lang: str | None  # None: same language as the linking article
    anchor: str | None
    line: int  # 1-based, relative to the markdown body


@dataclass
class Section:
    """The plain text under one heading (or before the first heading, with no heading)."""

    heading: str | None
    anchor: str
    blocks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.blocks)


@dataclass(frozen=True)
class Removal:
    """Something the writer wrote that customers will not see as written, made safe."""

    line: int  # 1-based, relative to the markdown body
    what: str  # "<script>", "the onclick attribute", "the javascript: link"


@dataclass(frozen=True)
class Rendered:
    """Everything derived from an article's markdown body."""

    html: str
    headings: list[Heading]
    links: list[ArticleLink]
    sections: list[Section]
    removed: list[Removal] = field(default_factory=list)

    @property
    def blocks(self) -> list[str]:
        """Plain-text blocks (paragraphs, list items, headings) in reading order."""
        out: list[str] = []
        for section in self.sections:
            if section.heading:
                out.append(section.heading)
            out.extend(section.blocks)
        return out


def slugify_heading(text: str) -> str:
    """An anchor that keeps letters of every script, so Swedish and Russian headings stay readable."""
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s_]+", "-", text).strip("-") or "section"


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    anchors_plugin(md, min_level=SECTION_LEVELS[0], max_level=SECTION_LEVELS[-1],
                   slug_func=slugify_heading)
    return md


_MD = _parser()


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content if child.type != "html_inline" else "")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def parse_link(href: str) -> tuple[str, str | None, str | None] | None:
    """(slug, lang, anchor) when `href` points at another article, else None."""
    if _SCHEME.match(href) or href.startswith(("/", "#")):
        return None
    match = _ARTICLE_LINK.match(href)
    if not match:
        return None
    return match["slug"].lower(), match["lang"], match["anchor"] or None


_HTML_TAG = re.compile(r"<\s*([A-Za-z][\w-]*)([^>]*)>?")
_HTML_ATTRIBUTE = re.compile(r"\s([A-Za-z_:][\w:.-]*)\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_UNSAFE_URL = re.compile(r"^\s*(?:javascript|vbscript|data|file):", re.IGNORECASE)
# A markdown link markdown-it refuses to make (it shows it as text): [text](javascript:...).
_REFUSED_MARKDOWN_LINK = re.compile(r"\]\(\s*<?\s*((?:javascript|vbscript|file|data):)",
                                    re.IGNORECASE)
_HTML_ALLOWED_SCHEMES = ("http:", "https:", "mailto:")


def _unsafe_html(html: str) -> list[str]:
    """What the sanitizer removes from a piece of raw HTML: tags, attributes, link addresses."""
    found: list[str] = []
    for tag, rest in _HTML_TAG.findall(html):
        tag = tag.lower()
        if tag not in _ALLOWED_TAGS:
            found.append(f"<{tag}>")
            continue
        allowed = _ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in _HTML_ATTRIBUTE.findall(rest):
            name, value = name.lower(), value.strip("\"'")
            if name not in allowed:
                found.append(f"the {name} attribute of <{tag}>")
            elif name in ("href", "src") and _SCHEME.match(value) \
                    and not value.lower().startswith(_HTML_ALLOWED_SCHEMES):
                found.append(f"the {value.split(':', 1)[0].lower()}: address of <{tag}>")
    return found


def _removals(tokens: list[Token]) -> list[Removal]:
    """Everything in the body that is shown differently than written, to be safe inside
    customers' pages: disallowed HTML, and links with a script address (shown as plain text)."""
    removed: list[Removal] = []
    for token in tokens:
        line = (token.map[0] + 1) if token.map else 1
        if token.type == "html_block":
            removed += [Removal(line, what) for what in _unsafe_html(token.content)]
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "html_inline":
                removed += [Removal(line, what) for what in _unsafe_html(child.content)]
        for offset, text in enumerate(token.content.split("\n")):
            for scheme in _REFUSED_MARKDOWN_LINK.findall(text):
                removed.append(Removal(line + offset, f"the {scheme.lower()} link (it is shown as "
                                                      "plain text)"))
    return removed


def render_markdown(body: str, lang: str, link_template: str = "/help/{lang}/{slug}") -> Rendered:
    """Parse CommonMark, rewrite article links with `link_template`, and sanitize the HTML."""
    tokens = _MD.parse(body)
    headings: list[Heading] = []
    links: list[ArticleLink] = []
    sections: list[Section] = [Section(heading=None, anchor="")]
    pending_heading: Token | None = None
    for token in tokens:
        if token.type in ("fence", "code_block") and token.content.strip():
            # Commands and error messages in code blocks are what customers paste into search.
            sections[-1].blocks.append(token.content.strip())
            continue
        if token.type == "heading_open":
            pending_heading = token
            continue
        if token.type != "inline":
            continue
        line = (token.map[0] + 1) if token.map else 1
        for child in token.children or []:
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href", ""))
            target = parse_link(href)
            if target is None:
                continue
            slug, link_lang, anchor = target
            links.append(ArticleLink(href, slug, link_lang, anchor, line))
            url = link_template.format(lang=link_lang or lang, slug=slug)
            child.attrSet("href", url + (f"#{anchor}" if anchor else ""))
            child.attrSet("data-kb-slug", slug)
            child.attrSet("data-kb-lang", link_lang or lang)
        text = _inline_text(token)
        if pending_heading is not None:
            level = int(pending_heading.tag[1])
            anchor = str(pending_heading.attrs.get("id", ""))
            if level in SECTION_LEVELS and anchor:
                headings.append(Heading(level, text, anchor, line))
                sections.append(Section(heading=text, anchor=anchor))
            elif text:
                sections[-1].blocks.append(text)
            pending_heading = None
        elif text:
            sections[-1].blocks.append(text)
    html = _MD.renderer.render(tokens, _MD.options, {})
    safe = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    if not sections[0].blocks and len(sections) > 1:
        sections = sections[1:]
    return Rendered(html=safe, headings=headings, links=links, sections=sections,
                    removed=_removals(tokens))
