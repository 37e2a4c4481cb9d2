"""A short excerpt of the best chunk with the query's words marked, safe to put into HTML."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from search.text import stem_tokens

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=65536)  # every word of every snippet: the same words recur all the time
def _stem(word: str, lang: str) -> str:
    stems = stem_tokens(word, lang, drop_stopwords=False)
    return stems[0] if stems else ""


def query_stems(query: str, lang: str) -> frozenset[str]:
    """The stems of the query's words that a snippet marks (stopwords only when nothing else)."""
    return frozenset(stem_tokens(query, lang, drop_stopwords=True))


def highlight(text: str, query: str, lang: str, max_chars: int = 220,
              wanted: frozenset[str] | None = None) -> str:
    """HTML-escaped excerpt around the first matching word, matching words wrapped in <mark>;
    `wanted` is `query_stems(query, lang)` when the caller has it already."""
    if wanted is None:
        wanted = query_stems(query, lang)
    words = list(_WORD.finditer(text))
    hits = [m for m in words if _stem(m.group(), lang) in wanted]
    start = 0
    if hits and hits[0].start() > max_chars // 3:
        start = text.rfind(" ", 0, hits[0].start() - max_chars // 4) + 1
    end = len(text)
    if end - start > max_chars:
        end = text.rfind(" ", start, start + max_chars)
        end = end if end > start else start + max_chars
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for match in hits:
        if match.start() < start or match.end() > end:
            continue
        out.append(html.escape(text[cursor:match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        cursor = match.end()
    out.append(html.escape(text[cursor:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)
