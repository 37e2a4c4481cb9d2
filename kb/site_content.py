"""What the help center shows: the served build's published articles, or (for `kb preview`) the
working folder's articles as they are on disk, drafts and their `kb check` problems included."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search import AnswerCache
from search.article import Article
from search.check import CheckRules, check_articles
from search.collection import TOPICS_FILE, ArticleSet, load_articles
from search.index import SearchIndex
from search.problem import Problem


@dataclass(frozen=True)
class SiteContent:
    """One consistent view of the articles (and the engine that searches them) for one request."""

    articles: ArticleSet
    languages: Sequence[str]
    source_language: str
    version: str  # changes whenever what a page may show changes (for ETags)
    updated_at: dt.datetime  # for Last-Modified
    engine: AnswerCache | None = None
    index: SearchIndex | None = None
    show_drafts: bool = False
    problems: Mapping[Path, list[Problem]] = field(default_factory=dict)

    def visible(self, article: Article) -> bool:
        """Drafts exist for customers nowhere; in the writer's preview, everywhere."""
        return article.published or self.show_drafts

    def versions(self, slug: str) -> dict[str, Article]:
        """Every visible language version of one article, in the configured languages' order."""
        found = self.articles.translations(slug)
        return {lang: found[lang] for lang in self.languages
                if lang in found and self.visible(found[lang])}

    def has_version(self, lang: str, slug: str) -> bool:
        """Whether `slug` exists in `lang` for this reader (used to keep links in that language)."""
        article = self.articles.get(lang, slug)
        return article is not None and self.visible(article)

    def shown(self, lang: str, slug: str) -> Article | None:
        """What a reader of `lang` gets at `slug`: their version, else the source language's,
        else any; None when the article does not exist for them."""
        versions = self.versions(slug)
        for code in (lang, self.source_language, *self.languages):
            if code in versions:
                return versions[code]
        return None

    def slugs(self) -> list[str]:
        """Every slug a reader can open."""
        return sorted({a.slug for a in self.articles.articles if self.visible(a)})


def built_at(index: SearchIndex) -> dt.datetime:
    """When a build was made, from its manifest (the epoch when a build does not say)."""
    try:
        return dt.datetime.fromisoformat(str(index.manifest["built_at"]))
    except (KeyError, ValueError):
        return dt.datetime.fromtimestamp(0, dt.timezone.utc)


def served_content(settings: Mapping[str, Any], snapshot: Any) -> SiteContent:
    """The content of the build the service answers from (a `kb.live_index.Snapshot`)."""
    return SiteContent(articles=snapshot.articles, languages=tuple(settings["LANGUAGES"]),
                       source_language=settings["SOURCE_LANGUAGE"],
                       version=snapshot.build_name, updated_at=built_at(snapshot.index),
                       engine=snapshot.engine, index=snapshot.index)


class WorkingFolder:
    """The articles folder as a writer is editing it, read again whenever a file changes."""

    def __init__(self, settings: Mapping[str, Any], root: Path, rules: CheckRules):
        self.settings = settings
        self.root = root
        self.rules = rules
        self._lock = threading.Lock()
        self._cached: tuple[tuple[str, int], SiteContent] | None = None

    def stamp(self) -> str:
        """Changes when any article file is added, removed or saved."""
        files = sorted([*self.root.rglob("*.md"), *self.root.glob(f"*/{TOPICS_FILE}")]) \
            if self.root.is_dir() else []
        parts = []
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                continue
            parts.append(f"{path}:{stat.st_mtime_ns}:{stat.st_size}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def content(self, engine: AnswerCache | None = None,
                index: SearchIndex | None = None) -> SiteContent:
        """The folder's articles now, drafts included, with each file's `kb check` problems."""
        stamp = self.stamp()
        key = (stamp, id(index))
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
        articles = load_articles(self.root, self.settings["LANGUAGES"],
                                 self.settings["ARTICLE_URL"])
        problems: dict[Path, list[Problem]] = {}
        for problem in check_articles(articles, self.rules):
            problems.setdefault(problem.path, []).append(problem)
        content = SiteContent(articles=articles, languages=tuple(self.settings["LANGUAGES"]),
                              source_language=self.settings["SOURCE_LANGUAGE"],
                              version=f"preview-{stamp}",
                              updated_at=dt.datetime.now(dt.timezone.utc), engine=engine,
                              index=index, show_drafts=True, problems=problems)
        with self._lock:
            self._cached = (key, content)
        return content


ContentSource = Callable[[], SiteContent | None]
