"""From a content gap to a draft article a writer can finish (`kb gaps draft N`).

The draft is in the cluster's main language, titled with its most typical question, tagged with
the customers' own words, and carries every question (emails and phone numbers masked) in an HTML
comment. `status: draft` keeps it out of the index and the API until a writer publishes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import yaml

from kb.report import Gap
from search.text import stopwords, words

TITLE_CHARS = 80
TAGS = 5
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n",
                      "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
                      "", "e", "iu", "ia"]))


def main_language(gap: Gap, languages: Sequence[str], source_language: str) -> str:
    """The language most of the cluster's questions were asked in (one the service serves)."""
    served = [(count, lang) for lang, count in gap.languages.items() if lang in languages]
    return max(served, key=lambda pair: (pair[0], pair[1] == source_language))[1] \
        if served else source_language


def title_from(question: str) -> str:
    """The question's first sentence, cut at a word within TITLE_CHARS, capitalised."""
    first = re.split(r"(?<=[.?!])\s+|\n", question.strip(), maxsplit=1)[0].strip(" .")
    if len(first) > TITLE_CHARS:
        first = first[:TITLE_CHARS].rsplit(" ", 1)[0]
    return first[:1].upper() + first[1:]


def slug_from(title: str) -> str:
    """Lower-case ASCII words joined by hyphens (Cyrillic transliterated, accents dropped)."""
    text = "".join(_CYRILLIC.get(c, c) for c in title.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", text))[:60].strip("-") or "new-article"


def tags_from(questions: Sequence[str], lang: str) -> list[str]:
    """The customers' own most frequent words (no stopwords, numbers or masked parts)."""
    stop = stopwords(lang) | {"email", "phone"}
    counts = Counter(w for q in questions for w in words(q)
                     if len(w) >= 4 and not any(c.isdigit() for c in w) and w not in stop)
    return [word for word, _ in counts.most_common(TAGS)]


def draft_title(gap: Gap, lang: str) -> str:
    """The title: the most typical question asked in the draft's language."""
    return title_from(next((q for q_lang, q in gap.questions if q_lang == lang), gap.typical))


def draft_text(gap: Gap, lang: str) -> str:
    """The markdown of the draft article."""
    title = draft_title(gap, lang)
    own_words = [q for q_lang, q in gap.questions if q_lang == lang]
    front = yaml.safe_dump({"title": title, "tags": tags_from(own_words, lang),
                            "status": "draft"},
                           allow_unicode=True, sort_keys=False, default_flow_style=None)
    asked = ", ".join(f"{k} {v}" for k, v in gap.languages.items())
    # "--" may not appear inside an HTML comment; a question could end it early.
    questions = "\n".join(f"- [{q_lang}] {q.replace('--', '- -')}" for q_lang, q in gap.questions)
    return (f"---\n{front}---\n\n"
            f"<!--\nCustomers asked this {gap.count} times ({asked}). Write the answer and a "
            f"summary, then set status: published.\n\n{questions}\n-->\n\n"
            f"## {title}\n\nWrite the answer here.\n")


def write_draft(gap: Gap, articles_dir: Path, languages: Sequence[str],
                source_language: str) -> Path:
    """Write the draft as `<articles_dir>/<lang>/<slug>.md`, never over an existing file."""
    lang = main_language(gap, languages, source_language)
    folder = articles_dir / lang
    folder.mkdir(parents=True, exist_ok=True)
    slug, text = slug_from(draft_title(gap, lang)), draft_text(gap, lang)
    for n in range(1, 1000):
        path = folder / (f"{slug}.md" if n == 1 else f"{slug}-{n}.md")
        try:
            with path.open("x", encoding="utf-8") as file:  # "x": never over a writer's file
                file.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder / slug}.md and 998 numbered variants exist already")
