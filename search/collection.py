"""Loading a folder of articles (`<root>/<lang>/**/<slug>.md`) into one collection plus its problems."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from search.article import SLUG_PATTERN, Article, ArticleError, parse_article
from search.problem import Problem, Severity

# In each language folder, the names customers read for the front matter's `category` values
# ("account: Konto"): a category is a slug shared by every language, its name is not.
TOPICS_FILE = "topics.yml"


def unnamed_topic(category: str) -> str:
    """A category no topics file names, as readers see it: "sign-in" -> "Sign in"."""
    return category.replace("-", " ").capitalize()


@dataclass
class ArticleSet:
    """All articles that parsed, and every problem met on the way."""

    root: Path
    languages: tuple[str, ...]
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Files in a language folder that could not be loaded (their errors are in `problems`), by
    # (lang, slug): they are still articles a writer is working on, and links may point at them.
    unloaded: dict[tuple[str, str], Path] = field(default_factory=dict)
    # lang -> category -> the name readers of that language see (TOPICS_FILE).
    topic_names: dict[str, dict[str, str]] = field(default_factory=dict)
    topic_files: list[Path] = field(default_factory=list)

    def topic_name(self, lang: str, category: str) -> str:
        """What readers of `lang` call a category: its name in that language's topics file,
        else the category itself ("sign-in" -> "Sign in")."""
        return self.topic_names.get(lang, {}).get(category) or unnamed_topic(category)

    def get(self, lang: str, slug: str) -> Article | None:
        """The article with this slug in this language, draft or not."""
        return self._by_key().get((lang, slug))

    def translations(self, slug: str) -> dict[str, Article]:
        """Every language version of one slug."""
        return {a.lang: a for a in self.articles if a.slug == slug}

    def published(self) -> list[Article]:
        """Articles a customer may see; drafts are never served."""
        return [a for a in self.articles if a.published]

    def count_by_language(self) -> dict[str, int]:
        """Article files per language, loaded or not."""
        keys = [(a.lang, a.slug) for a in self.articles] + list(self.unloaded)
        return {lang: sum(1 for key_lang, _ in keys if key_lang == lang) for lang in self.languages}

    def slugs(self) -> list[str]:
        return sorted({a.slug for a in self.articles})

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def _by_key(self) -> dict[tuple[str, str], Article]:
        return {(a.lang, a.slug): a for a in self.articles}


def _markdown_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def load_articles(root: Path, languages: Sequence[str],
                  link_template: str = "/help/{lang}/{slug}") -> ArticleSet:
    """Parse every article under `root`; broken files become problems instead of exceptions."""
    result = ArticleSet(root=root, languages=tuple(languages))
    if not root.is_dir():
        result.problems.append(Problem(root, 0, Severity.ERROR, "missing-folder",
                                       "articles folder not found; create it with one folder per "
                                       f"language ({', '.join(languages)})"))
        return result
    seen: dict[tuple[str, str], Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            if entry.suffix == ".md" and entry.name.lower() != "readme.md":
                result.problems.append(Problem(
                    entry, 1, Severity.ERROR, "outside-language-folder",
                    f"article is not in a language folder; move it to {root.name}/<lang>/ "
                    f"(one of: {', '.join(languages)})"))
            continue
        if entry.name not in languages:
            for path in _markdown_files(entry):
                result.problems.append(Problem(
                    path, 1, Severity.ERROR, "unknown-language",
                    f"unknown language folder '{entry.name}'; use one of {', '.join(languages)} "
                    "or add the language to the KB_LANGUAGES setting"))
            continue
        for path in _markdown_files(entry):
            _load_one(result, path, entry.name, seen, link_template)
        if (entry / TOPICS_FILE).is_file():
            _load_topics(result, entry / TOPICS_FILE, entry.name)
    return result


def _load_topics(result: ArticleSet, path: Path, lang: str) -> None:
    """One language's topic names; a broken file is a problem, and its names are not used."""
    fix = (f"write one line per category, e.g. 'account: Konto', in {path.parent.name}/"
           f"{TOPICS_FILE}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(Problem(path, 1, Severity.ERROR, "unreadable",
                                       f"cannot read the topic names ({exc}); {fix}"))
        return
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        result.problems.append(Problem(path, line, Severity.ERROR, "bad-topics",
                                       f"the topic names are not valid YAML; {fix}"))
        return
    if data is None:
        return
    if not isinstance(data, dict) or not all(
            isinstance(key, str) and isinstance(value, str) and value.strip()
            for key, value in data.items()):
        result.problems.append(Problem(path, 1, Severity.ERROR, "bad-topics",
                                       f"every topic needs a category and a name; {fix}"))
        return
    result.topic_names[lang] = {key.strip(): value.strip() for key, value in data.items()}
    result.topic_files.append(path)


def _load_one(result: ArticleSet, path: Path, lang: str, seen: dict[tuple[str, str], Path],
              link_template: str) -> None:
    slug = path.stem.lower()
    if not SLUG_PATTERN.match(slug):
        result.unloaded[(lang, slug)] = path
        result.problems.append(Problem(
            path, 1, Severity.ERROR, "bad-slug",
            f"file name '{path.name}' is not a valid slug; rename it to lowercase letters, digits "
            "and hyphens, e.g. reset-password.md (the name is the article's address)"))
        return
    if (lang, slug) in seen:
        result.problems.append(Problem(
            path, 1, Severity.ERROR, "duplicate-slug",
            f"slug '{slug}' is already used by {seen[(lang, slug)]}; rename one of the two files"))
        return
    seen[(lang, slug)] = path
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.unloaded[(lang, slug)] = path
        result.problems.append(Problem(
            path, 1, Severity.ERROR, "unreadable",
            f"cannot read the file ({exc.strerror or exc}); check that it exists and that you "
            "have permission to read it"))
        return
    try:
        article, warnings = parse_article(path, lang, data, link_template)
    except ArticleError as exc:
        result.unloaded[(lang, slug)] = path
        result.problems.append(exc.problem)
        return
    result.articles.append(article)
    result.problems.extend(warnings)
