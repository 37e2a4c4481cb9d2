"""Recording which source version a translation was made from (`source_hash` in its front matter)."""

from __future__ import annotations

import re

from search.article import FENCE, Article

_SOURCE_HASH_LINE = re.compile(r"^source_hash\s*:.*$")


def is_stale(translation: Article, source: Article) -> bool:
    """True when `translation` was not stamped as made from `source`'s current text."""
    return translation.source_hash != source.content_hash


def stamp_text(text: str, source_hash: str) -> str:
    """Return the file text with `source_hash` set, leaving every other line exactly as written."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text.removeprefix(bom)
    newline = "\r\n" if "\r\n" in text else "\r" if "\r" in text and "\n" not in text else "\n"
    lines = text.split(newline)
    if not lines or lines[0].strip() != FENCE:
        raise ValueError("the file has no front matter")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if end is None:
        raise ValueError("the front matter is not closed")
    for i in range(1, end):
        if _SOURCE_HASH_LINE.match(lines[i]):
            lines[i] = f"source_hash: {source_hash}"
            break
    else:
        lines.insert(end, f"source_hash: {source_hash}")
    return bom + newline.join(lines)


def stamp_translation(translation: Article, source: Article) -> bool:
    """Mark `translation` as up to date with `source`. Returns False if it already was."""
    if not is_stale(translation, source):
        return False
    # Bytes in and out, so the file keeps its own line endings on every platform.
    text = translation.path.read_bytes().decode("utf-8")
    translation.path.write_bytes(stamp_text(text, source.content_hash).encode("utf-8"))
    translation.source_hash = source.content_hash
    return True
