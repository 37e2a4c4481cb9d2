"""The `kb` command: what writers and operators run."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from kb.settings import load_settings
from search.check import CheckRules, check_articles
from search.collection import ArticleSet, load_articles
from search.problem import Severity
from search.translation import stamp_translation


class Context:
    """Settings loaded once per command run."""

    def __init__(self) -> None:
        self.settings: dict[str, Any] = load_settings()

    def articles_dir(self, given: Path | None) -> Path:
        return given if given is not None else Path(self.settings["ARTICLES_DIR"])

    def load(self, root: Path) -> ArticleSet:
        return load_articles(root, self.settings["LANGUAGES"], self.settings["ARTICLE_URL"])

    def check_rules(self) -> CheckRules:
        s = self.settings
        return CheckRules(
            source_language=s["SOURCE_LANGUAGE"],
            summary_max_chars=s["SUMMARY_MAX_CHARS"],
            readability_limits={"en": s["READABILITY_MIN_FLESCH_EN"],
                                "sv": s["READABILITY_MAX_LIX_SV"],
                                "ru": s["READABILITY_MIN_FLESCH_RU"]},
        )


pass_context = click.make_pass_decorator(Context, ensure=True)
ARTICLES_DIR = click.argument("articles_dir", required=False,
                              type=click.Path(path_type=Path, file_okay=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Multilingual knowledge base and FAQ deflection service."""


@main.command()
@ARTICLES_DIR
@click.option("--json", "as_json", is_flag=True, help="Print the problems as one JSON object.")
@pass_context
def check(ctx: Context, articles_dir: Path | None, as_json: bool) -> None:
    """Check every article; exit 1 if any has an error (warnings alone exit 0)."""
    root = ctx.articles_dir(articles_dir)
    articles = ctx.load(root)
    problems = check_articles(articles, ctx.check_rules())
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    warnings = len(problems) - errors
    per_language = Counter(a.lang for a in articles.articles)
    if as_json:
        click.echo(json.dumps({
            "problems": [p.to_dict(root) for p in problems],
            "summary": {"articles": len(articles.articles), "per_language": dict(per_language),
                        "errors": errors, "warnings": warnings},
        }, ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            style = "red" if problem.severity is Severity.ERROR else "yellow"
            click.echo(click.style(problem.format(root), fg=style))
        languages = ", ".join(f"{lang} {per_language.get(lang, 0)}" for lang in articles.languages)
        click.echo(f"{len(articles.articles)} articles checked ({languages}): "
                   f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    sys.exit(1 if errors else 0)


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--articles-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Articles folder (default: the ARTICLES_DIR setting).")
@click.option("--unstamped", is_flag=True,
              help="Stamp every translation that records no source version yet.")
@pass_context
def stamp(ctx: Context, targets: tuple[str, ...], articles_dir: Path | None,
          unstamped: bool) -> None:
    """Record that translations (LANG/SLUG) are up to date with their source article."""
    root = ctx.articles_dir(articles_dir)
    articles = ctx.load(root)
    source_lang = ctx.settings["SOURCE_LANGUAGE"]
    chosen = []
    for target in targets:
        lang, _, slug = target.removesuffix(".md").rpartition("/")
        lang = lang.rsplit("/", 1)[-1]
        translation = articles.get(lang, slug)
        if translation is None:
            raise click.BadParameter(f"no article {root}/{lang}/{slug}.md (write LANG/SLUG, "
                                     "e.g. sv/reset-password)", param_hint="TARGETS")
        if lang == source_lang:
            raise click.BadParameter(f"{target} is a source article, not a translation",
                                     param_hint="TARGETS")
        chosen.append(translation)
    if unstamped:
        chosen += [a for a in articles.articles
                   if a.lang != source_lang and a.source_hash is None and a not in chosen]
    if not chosen:
        raise click.UsageError("name translations to stamp (e.g. sv/reset-password) or pass "
                               "--unstamped")
    for translation in chosen:
        source = articles.get(source_lang, translation.slug)
        if source is None:
            click.echo(f"skipped {translation.id}: no {source_lang} source article", err=True)
            continue
        changed = stamp_translation(translation, source)
        click.echo(f"{'stamped' if changed else 'already current'} {translation.id}")
