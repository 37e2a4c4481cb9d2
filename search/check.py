"""Writer checks across a whole article set: links, translations, summaries and readability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError

from search.article import Article
from search.collection import ArticleSet
from search.problem import Problem, Severity
from search.readability import score_readability, split_sentences
from search.stamp import is_stale


@dataclass(frozen=True)
class CheckRules:
    """The thresholds writers can tune; see docs/settings.md."""

    source_language: str = "en"
    summary_max_chars: int = 200
    # Per language: (score limit, higher_is_easier). A score on the wrong side of it warns.
    readability_limits: Mapping[str, float] = field(
        default_factory=lambda: {"en": 50.0, "sv": 45.0, "ru": 40.0})


def language_name(code: str) -> str:
    """English display name of a language code, for messages ('sv' -> 'Swedish')."""
    try:
        return Locale.parse(code).get_display_name("en") or code
    except (UnknownLocaleError, ValueError):
        return code


def _warn(article: Article, line: int, code: str, message: str) -> Problem:
    return Problem(article.path, line, Severity.WARNING, code, message)


def check_links(articles: ArticleSet) -> list[Problem]:
    """Every link to another article must point at an article that exists in that language."""
    problems: list[Problem] = []
    for article in articles.articles:
        for link in article.links:
            lang = link.lang or article.lang
            target = articles.get(lang, link.slug) if lang in articles.languages else None
            line = article.file_line(link.line)
            unloaded = articles.unloaded.get((lang, link.slug))
            if target is None and unloaded is not None:
                problems.append(Problem(
                    article.path, line, Severity.ERROR, "link-to-broken-article",
                    f"link '{link.href}' points to {unloaded.relative_to(articles.root.parent)}, "
                    "which has an error (reported for that file) and is not served until it is "
                    "fixed"))
                continue
            if target is None:
                problems.append(Problem(
                    article.path, line, Severity.ERROR, "broken-link",
                    f"link '{link.href}' points to {articles.root.name}/{lang}/{link.slug}.md, "
                    "which does not exist; fix the file name in the link or remove the link"))
                continue
            if article.published and not target.published:
                problems.append(_warn(article, line, "link-to-draft",
                                      f"link '{link.href}' points to a draft that customers cannot "
                                      "see; publish it or remove the link"))
            if link.anchor and link.anchor not in {h.anchor for h in target.headings}:
                anchors = ", ".join(h.anchor for h in target.headings) or "none"
                problems.append(_warn(article, line, "broken-anchor",
                                      f"link '{link.href}': no heading '#{link.anchor}' in "
                                      f"{target.id} (its anchors: {anchors})"))
    return problems


def check_translations(articles: ArticleSet, source_language: str) -> list[Problem]:
    """Missing translations of published source articles, stale or unstamped translations."""
    problems: list[Problem] = []
    root = articles.root.name
    for slug in articles.slugs():
        versions = articles.translations(slug)
        source = versions.get(source_language)
        if source is not None and source.published:
            for lang in articles.languages:
                if lang != source_language and lang not in versions:
                    problems.append(_warn(
                        source, source.field_lines.get("title", 1), "translation-missing",
                        f"no {language_name(lang)} translation yet; customers writing in "
                        f"{language_name(lang)} get the {language_name(source_language)} "
                        f"version. Translate it as {root}/{lang}/{slug}.md"))
        for lang, translation in versions.items():
            if lang == source_language:
                continue
            line = translation.field_lines.get("source_hash", translation.field_lines.get("title", 1))
            if source is None:
                problems.append(_warn(
                    translation, line, "translation-orphan",
                    f"no {language_name(source_language)} source article {root}/"
                    f"{source_language}/{slug}.md for this translation; check the file name"))
            elif translation.source_hash is None:
                problems.append(_warn(
                    translation, line, "translation-unstamped",
                    "translation does not record which source version it was made from; when it "
                    f"matches the source, run: kb stamp {lang}/{slug}"))
            elif is_stale(translation, source):
                problems.append(_warn(
                    translation, line, "translation-stale",
                    f"the {language_name(source_language)} source changed since this translation "
                    f"(source_hash {translation.source_hash}, source is now {source.content_hash}); "
                    f"update the translation, then run: kb stamp {lang}/{slug}"))
    return problems


def check_summary(article: Article, max_chars: int) -> list[Problem]:
    line = article.field_lines.get("summary", article.field_lines.get("title", 1))
    if not article.summary:
        return [_warn(article, line, "summary-missing",
                      "no summary; add 'summary: ...' with one or two plain sentences that answer "
                      "the question (customers see it first in search results)")]
    sentences = split_sentences([article.summary])
    if len(article.summary) > max_chars or len(sentences) > 2:
        return [_warn(article, line, "summary-too-long",
                      f"summary has {len(article.summary)} characters and {len(sentences)} "
                      f"sentences; keep it to one or two sentences and at most {max_chars} characters")]
    return []


def check_readability(article: Article, limits: Mapping[str, float]) -> list[Problem]:
    limit = limits.get(article.lang)
    result = score_readability(article.lang, [s for sec in article.sections for s in sec.blocks])
    if limit is None or result is None:
        return []
    too_hard = result.score < limit if result.higher_is_easier else result.score > limit
    if not too_hard:
        return []
    direction = "at least" if result.higher_is_easier else "at most"
    return [_warn(article, article.body_line, "hard-to-read",
                  f"hard to read for a newbie: {result.formula} {result.score:g} (aim for "
                  f"{direction} {limit:g}); use shorter sentences "
                  f"({result.words / result.sentences:.0f} words each now) and simpler words")]


def check_articles(articles: ArticleSet, rules: CheckRules | None = None) -> list[Problem]:
    """All problems: those found while loading plus the cross-article and writing checks."""
    rules = rules or CheckRules()
    problems = list(articles.problems)
    problems += check_links(articles)
    problems += check_translations(articles, rules.source_language)
    for article in articles.articles:
        problems += check_summary(article, rules.summary_max_chars)
        problems += check_readability(article, rules.readability_limits)
    return sorted(problems, key=lambda p: (str(p.path), p.line, p.code))
