"""The `kb` command: what writers and operators run."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kb.settings import SettingsError, load_settings
from search import (ArticleSet, CheckRules, Severity, check_articles, load_articles,
                    stamp_translation)


class Context:
    """Settings loaded once per command run."""

    def __init__(self) -> None:
        try:
            self.settings: dict[str, Any] = load_settings()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None

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


# How often `kb index` says how far it got when its output is not a terminal.
PROGRESS_SECONDS = 10.0

pass_context = click.make_pass_decorator(Context, ensure=True)
ARTICLES_DIR = click.argument("articles_dir", required=False,
                              type=click.Path(path_type=Path, file_okay=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Multilingual knowledge base and FAQ deflection service."""


def _articles_root_of(file: Path, languages: list[str]) -> Path:
    """The articles folder a single article file belongs to (the parent of its language folder)."""
    for folder in file.resolve().parents:
        if folder.name in languages:
            return folder.parent
    raise click.BadParameter(f"{file} is not inside a language folder ({', '.join(languages)}); "
                             "articles live in <articles>/<lang>/<slug>.md", param_hint="PATH")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as one JSON object.")
@pass_context
def check(ctx: Context, path: Path | None, as_json: bool) -> None:
    """Check every article, or one article file (with the others around it, for its links);
    exit 1 if there is an error (warnings alone exit 0)."""
    only = path if path is not None and path.is_file() else None
    root = _articles_root_of(only, ctx.settings["LANGUAGES"]) if only else ctx.articles_dir(path)
    articles = ctx.load(root)
    problems = check_articles(articles, ctx.check_rules())
    per_language = articles.count_by_language()
    unloaded = len(articles.unloaded)
    if only is not None:
        problems = [p for p in problems if p.path.resolve() == only.resolve()]
        per_language = {lang: int(only.resolve().parent.name == lang) for lang in per_language}
        unloaded = int(any(p.resolve() == only.resolve() for p in articles.unloaded.values()))
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    warnings = len(problems) - errors
    checked = sum(per_language.values())
    if as_json:
        click.echo(json.dumps({
            "problems": [p.to_dict(root) for p in problems],
            "summary": {"articles": checked, "per_language": per_language, "unloaded": unloaded,
                        "errors": errors, "warnings": warnings},
        }, ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            style = "red" if problem.severity is Severity.ERROR else "yellow"
            click.echo(click.style(problem.format(root), fg=style))
        languages = ", ".join(f"{lang} {count}" for lang, count in per_language.items() if count
                              or only is None)
        # A file that could not be loaded is still counted, and said to be out of service.
        not_served = f", {unloaded} not served until fixed" if unloaded else ""
        click.echo(f"{_plural(checked, 'article')} checked ({languages}{not_served}): "
                   f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}")
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
        try:
            changed = stamp_translation(translation, source)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot stamp {translation.path}: {exc}") from None
        click.echo(f"{'stamped' if changed else 'already current'} {translation.id}")


class _EchoHandler(logging.Handler):
    """Shows a library's log messages to the person running the command."""

    def __init__(self, echo: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        self.echo(record.getMessage())


def _fail_on(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@main.command()
@ARTICLES_DIR
@click.option("--index-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where to publish the index (default: the INDEX_DIR setting).")
@pass_context
def index(ctx: Context, articles_dir: Path | None, index_dir: Path | None) -> None:
    """Build or update the search index from the published articles."""
    from kb.searcher import build_and_publish, derived_from_help_center, model_for
    from search import ModelLoadError, UnusableIndexError

    bar: Any = None
    started = last_said = time.monotonic()

    def say(message: str) -> None:
        click.echo(message, err=True)

    def progress(done: int, total: int) -> None:
        nonlocal bar, last_said
        if sys.stderr.isatty():
            if bar is None:
                bar = click.progressbar(length=total, label="embedding", file=sys.stderr,
                                        show_eta=True, show_pos=True)
                bar.__enter__()
            bar.update(done - bar.pos)
            return
        # A log (CI, a pipe) gets a line now and then instead of a bar.
        now = time.monotonic()
        if done == total or now - last_said >= PROGRESS_SECONDS:
            last_said = now
            say(f"embedded {done}/{total} texts in {now - started:.0f} s")

    # The model's one-time export to ONNX is announced by the library's log.
    library_log = logging.getLogger("search")
    export_notice, level = _EchoHandler(say), library_log.level
    library_log.addHandler(export_notice)
    library_log.setLevel(logging.INFO)
    try:
        say(f"loading the model {ctx.settings['MODEL']}")
        # Embed on every core: this command serves no one while it runs.
        model_for(ctx.settings).document_threads = os.cpu_count() or 1
        build = build_and_publish(ctx.settings, ctx.articles_dir(articles_dir), index_dir,
                                  progress, say)
    except (ModelLoadError, UnusableIndexError, OSError) as exc:
        raise _fail_on(exc) from None
    finally:
        library_log.removeHandler(export_notice)
        library_log.setLevel(level)
        if bar is not None:
            bar.__exit__(None, None, None)
    report = build.report
    errors = build.articles.errors
    counts = Counter(d.lang for d in build.index.documents)
    if errors:
        click.echo(click.style(f"skipped {len(errors)} article file(s) with errors; run "
                               "'kb check' to see them", fg="yellow"), err=True)
    click.echo(f"indexed {report.documents} published articles "
               f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) as {report.chunks} "
               f"chunks: embedded {report.embedded} texts, reused {report.reused} from the cache")
    click.echo(f"{report.index_kind} index built in {report.seconds:.1f} s, now served from "
               f"{report.path}")
    click.echo("calibrated from the help center itself:")
    for line in derived_from_help_center(build.index, ctx.settings):
        click.echo(f"  {line}")


@main.command()
@ARTICLES_DIR
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@pass_context
def preview(ctx: Context, articles_dir: Path | None, host: str, port: int) -> None:
    """Serve the help center from the working folder: drafts shown, each article's `kb check`
    problems above it, and an open page reloads when its file is saved."""
    import tempfile

    from werkzeug.serving import run_simple

    from kb import create_app
    from kb.services import services
    from kb.site_content import SiteContent, WorkingFolder

    root = ctx.articles_dir(articles_dir)
    if not root.is_dir():
        raise click.ClickException(f"no articles folder at {root}; give the folder "
                                   "(kb preview path/to/articles) or set KB_ARTICLES_DIR")
    folder = WorkingFolder(ctx.settings, root, ctx.check_rules())
    scratch = Path(tempfile.mkdtemp(prefix="kb-preview-"))
    served: dict[str, Any] = {}

    def content() -> SiteContent:
        # Search uses the last `kb index` build, when there is one.
        snapshot = services(served["app"]).live_index.current()
        return folder.content(snapshot.engine if snapshot else None,
                              snapshot.index if snapshot else None)

    # Nothing a writer does in the preview (a test ticket, feedback) reaches the real database
    # or the help desk.
    served["app"] = create_app({"ARTICLES_DIR": str(root), "WEBHOOK_URL": "", "SMTP_URL": "",
                                "OUTBOX_INTERVAL": 0.0,
                                "DATABASE_URL": f"sqlite:///{scratch / 'preview.sqlite3'}"},
                               site_content=content)
    click.echo(f"previewing {root} at http://{host}:{port}/help/ (Ctrl+C to stop)")
    try:
        run_simple(host, port, served["app"], threaded=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                                   "choose another with --port") from None


@main.command()
@click.argument("question")
@click.option("--lang", help="Language hint (en, sv, ru); clear evidence in the text wins.")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.option("--explain", is_flag=True, help="Say why this many suggestions (or none), with "
              "each result's signals.")
@pass_context
def search(ctx: Context, question: str, lang: str | None, limit: int, as_json: bool,
           explain: bool) -> None:
    """Ask the index a question, as a customer would."""
    from kb.searcher import open_engine
    from search import ModelLoadError, UnusableIndexError, to_json

    try:
        engine = open_engine(ctx.settings)
    except (ModelLoadError, UnusableIndexError) as exc:
        raise _fail_on(exc) from None
    response = engine.search(question, lang=lang, limit=limit)
    if as_json:
        answer = to_json(response)
        if explain:
            answer["explanation"] = response.explanation
            answer["familiar_share"] = response.familiar_share
            answer["unknown_words"] = list(response.unknown_words)
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    click.echo(f"language: {response.lang} ({response.lang_reason}), {response.took_ms:.0f} ms")
    if response.repaired_query:
        click.echo(f"showing results for: {response.repaired_query}")
    if not response.results:
        click.echo("no suggestion: nothing answers this well enough (a customer would go "
                   "straight to support)")
    if explain:
        click.echo(f"why: {response.explanation}")
        if response.unknown_words:
            click.echo(f"words no article uses: {', '.join(response.unknown_words)} (familiar "
                       f"share {response.familiar_share:.2f})")
        reading = engine.english_reading(response.query, response.lang)
        if reading is not None:
            click.echo("read in English as: " + "; ".join(
                f"{word} -> {', '.join(senses)}" for word, senses in reading.words))
    for rank, result in enumerate(response.results, 1):
        label = f" [{result.lang}, fallback]" if result.fallback else ""
        click.echo(f"{rank}. {result.title}{label}  ({result.id}#{result.anchor}, "
                   f"score {result.score:.2f})")
        click.echo(f"   {result.summary}")
        if explain:
            click.echo("   signals: " + ", ".join(f"{name} {value:.2f}"
                                                  for name, value in result.signals.items()))


@main.command(name="eval")
@click.option("--set", "sets", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder with corpus.jsonl and queries.jsonl; repeat to score several help "
              "centers in one run.")
@click.option("--corpus", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--queries", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--translation", type=click.Choice(["all", "learned", "off"]), default="all",
              show_default=True, help="Query translation: imported dictionaries (KB_LEXICON_DIR) "
              "plus the lexicon learned from translated articles, the learned one alone, or none.")
@pass_context
def evaluate_command(ctx: Context, sets: tuple[Path, ...], corpus: Path | None,
                     queries: Path | None, as_json: bool, translation: str) -> None:
    """Score the engine on evaluation sets (retrieval or deflection), next to plain BM25."""
    from kb.searcher import embedder_for, imported_lexicon, ranking_config
    from search import (EvalDataError, Lexicon, LexiconError, ModelLoadError, TranslationSetup,
                        evaluate, read_jsonl)

    if (corpus is None) != (queries is None):
        raise click.UsageError("give --corpus and --queries together (or --set FOLDER)")
    named = [(folder.name, folder / "corpus.jsonl", folder / "queries.jsonl") for folder in sets]
    if corpus is not None and queries is not None:
        named.append((corpus.parent.name or corpus.name, corpus, queries))
    if not named:
        raise click.UsageError("nothing to score: give --set FOLDER (repeatable) or "
                               "--corpus FILE --queries FILE")
    try:
        data = [(name, read_jsonl(c), read_jsonl(q)) for name, c, q in named]
        embedder = embedder_for(ctx.settings)
        embedder.inner.document_threads = os.cpu_count() or 1  # nothing else to serve here
        setup = TranslationSetup(
            dictionaries=imported_lexicon(ctx.settings) if translation == "all" else None,
            enabled=translation != "off")
    except (EvalDataError, ModelLoadError, LexiconError) as exc:
        raise _fail_on(exc) from None
    config = ranking_config(ctx.settings, embedder.name, setup.dictionaries or Lexicon())
    reports = {name: evaluate(records, questions, embedder, ctx.settings["LANGUAGES"], config,
                              progress=lambda msg: click.echo(msg, err=True), translation=setup)
               for name, records, questions in data}
    if as_json:
        payload = (next(iter(reports.values())).to_dict() if len(reports) == 1
                   else {"sets": {name: r.to_dict() for name, r in reports.items()}})
        click.echo(json.dumps(payload, indent=2))
        return
    for name, report in reports.items():
        if len(reports) > 1:
            click.echo(f"== {name}")
        _print_eval_report(report)
        click.echo("")


def _print_eval_report(report: Any) -> None:
    """One evaluation report as a table, the engine next to plain BM25 on the same pool."""
    columns = ["n", "ndcg@10", "mrr@10", "recall@1", "recall@3", "recall@10",
               "false_abstain_rate", "abstain_rate"]
    click.echo(f"{'task':24s}" + "".join(f"{c[:12]:>13s}" for c in columns)
               + f"{'bm25 R@3':>11s}")
    below = set(report.below_baseline())
    for task, metrics in report.tasks.items():
        baseline = report.baseline.get(task, {})
        plain = baseline.get("recall@3", baseline.get("abstain_rate"))
        click.echo(f"{task:24s}" + "".join(
            f"{metrics[c]:>13.3f}" if c in metrics and c != "n" else
            f"{int(metrics[c]):>13d}" if c == "n" else f"{'':>13s}" for c in columns)
            + (f"{plain:>11.3f}" if plain is not None else f"{'':>11s}")
            + ("  below plain BM25" if task in below else ""))
    click.echo("")
    for name, value in report.macro.items():
        click.echo(f"{name:40s}{value:.3f}")
    click.echo(f"model: {report.model}; latency p50 {report.latency_ms.get('p50', 0):.1f} ms, "
               f"p95 {report.latency_ms.get('p95', 0):.1f} ms")


@main.command(name="tune")
@click.option("--set", "sets", multiple=True, required=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="A deflection set folder (corpus.jsonl, queries.jsonl); give two or more.")
@click.option("--ranking", is_flag=True, help="Choose the ranking parameters (fusion weights, "
              "native preference, translation band, synonym weight) instead of the decision's.")
@click.option("--max-task-cost", type=click.FloatRange(0.0, 1.0), default=0.01,
              show_default=True, help="With --ranking: the most Recall@3 a chosen value may cost "
              "any task of a training help center (1: no limit, the mean alone decides).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def tune_command(ctx: Context, sets: tuple[Path, ...], ranking: bool, max_task_cost: float,
                 as_json: bool) -> None:
    """Choose the abstention rules and the suggestion margin (or, with --ranking, the ranking
    parameters) leave-one-help-center-out."""
    from kb.searcher import embedder_for, imported_lexicon, ranking_config
    from search import (EvalDataError, LexiconError, ModelLoadError, QueryMemo,
                        TranslationSetup, collection_engine, collections_of, decision_off,
                        decision_for, read_jsonl, record_questions)

    if len(sets) < 2:
        raise click.UsageError("leave-one-out needs two help centers or more (--set, repeated)")
    if len({folder.name for folder in sets}) < len(sets):
        raise click.UsageError("give each help center once (the folder names must differ)")
    try:
        embedder = embedder_for(ctx.settings)
        embedder.inner.document_threads = os.cpu_count() or 1  # nothing else to serve here
        setup = TranslationSetup(dictionaries=imported_lexicon(ctx.settings))
        config = ranking_config(ctx.settings, embedder.name, setup.dictionaries)
        memo = QueryMemo(embedder)
        engines: dict[str, list[tuple[Any, list[Any]]]] = {}
        for folder in sets:
            engines[folder.name] = []
            for name, documents, queries in collections_of(
                    read_jsonl(folder / "corpus.jsonl"), read_jsonl(folder / "queries.jsonl")):
                click.echo(f"{folder.name}: {name}, {len(documents)} articles, "
                           f"{len(queries)} questions", err=True)
                engines[folder.name].append((collection_engine(
                    documents, memo, ctx.settings["LANGUAGES"], decision_off(config), setup),
                    queries))
    except (EvalDataError, ModelLoadError, LexiconError) as exc:
        raise _fail_on(exc) from None
    if ranking:
        _tune_ranking(engines, config, max_task_cost, as_json)
        return
    recorded = {name: [q for engine, queries in pairs for q in record_questions(engine, queries)]
                for name, pairs in engines.items()}
    read = setup.dictionaries.dictionary_languages() if setup.dictionaries else []
    model = decision_for(embedder.name)
    _tune_decision(recorded, as_json, model.names_with_dictionaries if {"sv", "ru"} <= set(read)
                   else model.names_without_dictionaries, config, model.dense_cuts)


def _tune_ranking(engines: Any, config: Any, max_task_cost: float, as_json: bool) -> None:
    """Ranking parameters by coordinate descent, each help center left out in turn."""
    from search import RankingRuns, generalises, ranking_families, ranking_leave_one_out

    families = ranking_families(config)
    runs = RankingRuns(engines)
    left_out, on_all = ranking_leave_one_out(runs, config, families,
                                             lambda msg: click.echo(msg, err=True), max_task_cost)
    defaults = {f.name: f.value(config) for f in families}
    holds = generalises(left_out)
    if as_json:
        click.echo(json.dumps({
            "defaults": defaults, "chosen_on_all": on_all, "generalises": holds,
            "left_out": {name: {"chosen_on_others": c.chosen, "recall@3": c.recall,
                                "default_recall@3": c.default_recall}
                         for name, c in left_out.items()}}, indent=2))
        return
    for name, choice in left_out.items():
        changed = {k: v for k, v in choice.chosen.items() if v != defaults[k]}
        click.echo(f"== {name}, left out (changed from the defaults on the others: "
                   f"{json.dumps(changed) if changed else 'nothing'})")
        click.echo(f"{'task':24s}{'R@3 chosen':>12s}{'R@3 defaults':>14s}")
        for task, value in choice.recall.items():
            click.echo(f"{task:24s}{value:>12.3f}{choice.default_recall[task]:>14.3f}")
        click.echo("")
    changed = {k: v for k, v in on_all.items() if v != defaults[k]}
    click.echo(f"chosen on all help centers, changed from the defaults: "
               f"{json.dumps(changed) if changed else 'nothing'}")
    click.echo("they generalise (no task of a left-out help center more than .01 below the "
               "defaults)" if holds else "they do not generalise: keep the defaults")
    click.echo(f"({runs.searches} searches)", err=True)


def _tune_decision(recorded: Any, as_json: bool, table: str, config: Any,
                   dense_grid: Any) -> None:
    """Abstention rules and margin, replayed on recorded candidates, each help center left out;
    `table` names the rules of search/decision.py that the choice on all is for (the service
    uses one with the dictionaries imported, the other without); `config`'s own rules judge the
    second looks as typed, which are not chosen here; the dense cuts are from `dense_grid`,
    the model's (search/decision.py `ModelDecision`)."""
    from dataclasses import asdict

    from search import Choice, choose, leave_one_out

    kept = Choice(abstain=dict(config.abstain), relative_margins=dict(config.relative_margins))
    left_out = leave_one_out(recorded, kept, dense_grid)
    overall = choose([q for questions in recorded.values() for q in questions], kept, dense_grid)

    def params(choice: Any) -> dict[str, Any]:
        return {"abstain": {key: {name: value for name, value in asdict(rule).items()
                                  if name != "min_bm25"}
                            for key, rule in sorted(choice.abstain.items())},
                "relative_margins": dict(sorted(choice.relative_margins.items()))}

    if as_json:
        click.echo(json.dumps({"left_out": {name: {"chosen_on_others": params(choice),
                                                   "tasks": tasks}
                                            for name, (choice, tasks) in left_out.items()},
                               "chosen_on_all": params(overall), "for": table}, indent=2))
        return
    for name, (choice, tasks) in left_out.items():
        click.echo(f"== {name}, left out (parameters chosen on the others: "
                   f"{json.dumps(params(choice))})")
        click.echo(f"{'task':24s}{'n':>5s}{'R@3':>8s}{'false abst':>12s}{'shown':>8s}"
                   f"{'abstain':>9s}")
        for task, metrics in tasks.items():
            click.echo(f"{task:24s}{int(metrics['n']):>5d}" + (
                f"{metrics['recall@3']:>8.3f}{metrics['false_abstain_rate']:>12.3f}"
                f"{metrics['shown']:>8.2f}" if "recall@3" in metrics
                else f"{'':>28s}{metrics['abstain_rate']:>9.3f}"))
        click.echo("")
    click.echo(f"chosen on all help centers (search/decision.py {table}): "
               f"{json.dumps(params(overall))}")


@main.group(name="dict")
def dictionaries() -> None:
    """Bilingual lexicons for translating Swedish and Russian questions into English."""


@dictionaries.command(name="import")
@click.argument("sources", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=False))
@click.option("--lexicon-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where to write the lexicons (default: the LEXICON_DIR setting).")
@pass_context
def dict_import(ctx: Context, sources: tuple[Path, ...], lexicon_dir: Path | None) -> None:
    """Read Wiktionary tables (.txt, .dsl.dz) and wordnet .tab files into the engine's lexicons.

    SOURCES are files or folders; folders are searched for the known file names. Workers pick
    the new lexicons up with the next index they load (run kb index, or restart).
    """
    from search import LexiconError, read_dictionaries, write_tables

    target = lexicon_dir or Path(ctx.settings["LEXICON_DIR"])
    try:
        tables = read_dictionaries(sources)
        written = write_tables(tables, target)
    except LexiconError as exc:
        raise _fail_on(exc) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write to {target}: {exc.strerror or exc}") from None
    for name, rows in written.items():
        click.echo(f"{target / name}: {rows} pairs")


@dictionaries.command(name="lookup")
@click.argument("text")
@click.option("--lang", required=True, type=click.Choice(["sv", "ru"]))
@pass_context
def dict_lookup(ctx: Context, text: str, lang: str) -> None:
    """Show how a question is translated into English, word by word (with the served index)."""
    from kb.searcher import imported_lexicon, model_for
    from search import (LexiconError, ModelLoadError, SearchIndex, UnusableIndexError,
                        translator_for)

    try:
        index = SearchIndex.load(Path(ctx.settings["INDEX_DIR"]), model_for(ctx.settings).name)
        translator = translator_for(index, imported_lexicon(ctx.settings))
    except (ModelLoadError, UnusableIndexError, LexiconError) as exc:
        raise _fail_on(exc) from None
    if translator is None:
        raise click.ClickException("no English articles or no lexicon: nothing to translate into")
    translated = translator.translate(text, lang)
    for word, senses in translated.words:
        click.echo(f"{word:24s} -> {', '.join(senses)}")
    click.echo(f"reading: {translated.text}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Apply every pending schema migration."""
    from kb.db import Database

    database = Database(ctx.settings["DATABASE_URL"])
    try:
        database.upgrade()
    except Exception as exc:  # noqa: BLE001 - driver errors vary; the message is what matters
        raise click.ClickException(f"cannot migrate {database.engine.url!r}: {exc}") from None
    click.echo(f"database schema is up to date ({database.engine.url.render_as_string()})")


@main.group()
def tickets() -> None:
    """Customers' tickets and their delivery to the help desk."""


def _channels(ctx: Context) -> dict[str, Any]:
    from kb.outbox import configured_channels

    try:
        channels = configured_channels(ctx.settings, check_mail_server=True)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not channels:
        raise click.ClickException("neither KB_WEBHOOK_URL nor KB_SMTP_URL is set: there is "
                                   "nowhere to send tickets")
    return channels


@tickets.command("list")
@click.option("--undelivered", is_flag=True, help="Only tickets not yet delivered.")
@click.option("--failed", is_flag=True, help="Only tickets a channel refused for good.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@pass_context
def tickets_list(ctx: Context, undelivered: bool, failed: bool, limit: int) -> None:
    """Newest tickets with their delivery state per channel (and why one failed)."""
    from kb.db import Database
    from kb.outbox import tickets_with_deliveries

    database = Database(ctx.settings["DATABASE_URL"])
    with database.session() as session:
        rows = list(session.scalars(tickets_with_deliveries(undelivered, failed).limit(limit)))
        for ticket in rows:
            states = []
            for item in ticket.delivery_state()["deliveries"]:
                state = (f"delivered {item['delivered_at'][:16].replace('T', ' ')}"
                         if item["state"] == "delivered" else
                         f"{item['state']} ({item['attempts']} attempts"
                         f"{'; ' + item['last_error'][:120] if item['last_error'] else ''})")
                states.append(f"{item['channel']} {state}")
            click.echo(f"#{ticket.id} {ticket.created_at:%Y-%m-%d %H:%M} [{ticket.lang}] "
                       f"{ticket.subject[:50]!r} - {', '.join(states) or 'no delivery'}")
    if not rows:
        click.echo("no tickets")


@tickets.command("send")
@click.option("--all", "send_all", is_flag=True,
              help="Send every undelivered ticket now, even those waiting for their next retry.")
@pass_context
def tickets_send(ctx: Context, send_all: bool) -> None:
    """Deliver waiting tickets to the help desk (KB_WEBHOOK_URL, KB_SMTP_URL)."""
    from kb.db import Database
    from kb.outbox import deliver_due

    report = deliver_due(Database(ctx.settings["DATABASE_URL"]), _channels(ctx),
                         ctx.settings["WEBHOOK_TIMEOUT"], send_all=send_all)
    click.echo(f"delivered {report.delivered}, failed {report.failed} (failed ones are retried "
               "later, unless refused for good: see 'kb tickets list --failed')")
    sys.exit(1 if report.failed else 0)


@tickets.command("resend")
@click.argument("ticket_ids", nargs=-1, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Every ticket whose delivery failed.")
@pass_context
def tickets_resend(ctx: Context, ticket_ids: tuple[int, ...], all_failed: bool) -> None:
    """Send tickets refused for good again, once the setting is fixed (IDs or --failed)."""
    from kb.db import Database
    from kb.outbox import deliver_due, resend

    if not ticket_ids and not all_failed:
        raise click.UsageError("name the tickets to re-send (e.g. 12 13) or pass --failed")
    channels = _channels(ctx)
    database = Database(ctx.settings["DATABASE_URL"])
    count = resend(database, None if all_failed else list(ticket_ids))
    report = deliver_due(database, channels, ctx.settings["WEBHOOK_TIMEOUT"])
    click.echo(f"re-sending {count} deliveries: delivered {report.delivered}, "
               f"failed {report.failed}")
    sys.exit(1 if report.failed or not count else 0)


@main.group()
def translate() -> None:
    """UI text: Babel message catalogs in widget/translations and kb/translations."""


def _pybabel(*args: str) -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args],
                            capture_output=True, text=True)
    if result.returncode:
        raise click.ClickException(result.stderr.strip() or "pybabel failed")


def _catalogs() -> list[tuple[str, Path, Path]]:
    """(project, folder with babel.cfg and messages.pot, translations folder) of each UI."""
    from kb.catalog import SITE_DIR, SITE_TRANSLATIONS, TRANSLATIONS, WIDGET_DIR

    return [("Driftbox Help widget", WIDGET_DIR, TRANSLATIONS),
            ("Driftbox Help site", SITE_DIR, SITE_TRANSLATIONS)]


@translate.command("update")
def translate_update() -> None:
    """Extract the widget's and the help center's strings into their messages.pot and merge
    them into every catalog."""
    for project, folder, translations in _catalogs():
        pot = folder / "messages.pot"
        _pybabel("extract", "-F", str(folder / "babel.cfg"), "-k", "_", "-k", "ngettext:1,2",
                 "--no-location", "--sort-output", "--project", project,
                 "-o", str(pot), str(folder))
        _pybabel("update", "-i", str(pot), "-d", str(translations), "--no-fuzzy-matching")
        click.echo(f"updated {pot} and the catalogs in {translations}")
    click.echo("translate the new msgstr entries, then run the tests")


@translate.command("init")
@click.argument("lang")
def translate_init(lang: str) -> None:
    """Start the widget's and the help center's catalogs for a new language (add it to
    KB_LANGUAGES too)."""
    for _project, folder, translations in _catalogs():
        _pybabel("init", "-i", str(folder / "messages.pot"), "-d", str(translations), "-l", lang)
        click.echo(f"created {translations / lang / 'LC_MESSAGES' / 'messages.po'}")


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-22") from None


@main.command()
@click.option("--from", "start", callback=_date, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", callback=_date, help="Last day (YYYY-MM-DD).")
@click.option("--period", type=click.Choice(["day", "week"]), default="week", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def report(ctx: Context, start: Any, end: Any, period: str, as_json: bool) -> None:
    """Deflection funnel, content gaps, article performance and translation health."""
    from kb.db import Database
    from kb.report import DateRange, build_report
    from kb.searcher import load_articles_for, model_for

    database = Database(ctx.settings["DATABASE_URL"])
    with database.session() as session:
        result = build_report(session, model_for(ctx.settings), load_articles_for(ctx.settings),
                              ctx.settings, DateRange(start, end), period)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    _print_report(result)


def _print_report(result: Any) -> None:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    from kb.deflection import DEFINITIONS

    click.echo(click.style("Deflection funnel", bold=True) + f" (per {result.period})")
    click.echo(f"{'period':10s} {'lang':4s} {'sessions':>8s} {'searched':>8s} {'shown':>6s} "
               f"{'opened':>6s} {'helpful':>7s} {'confirmed':>9s} {'pending':>7s} "
               f"{'cancelled':>9s} {'tickets':>7s} {'rate':>5s}")
    for row in [*result.funnel, *result.totals.values()]:
        click.echo(f"{row.period:10s} {row.lang:4s} {row.sessions:8d} {row.searched:8d} "
                   f"{row.suggestions_shown:6d} {row.opened:6d} {row.helpful:7d} "
                   f"{row.confirmed:9d} {row.pending:7d} {row.cancelled:9d} {row.tickets:7d} "
                   f"{pct(row.deflection_rate):>5s}")
    for state, sentence in DEFINITIONS.items():
        click.echo(f"  {state}: {sentence}")
    click.echo("  rate: confirmed / (confirmed + tickets).")
    click.echo("\n" + click.style("Content gaps", bold=True) +
               " (unanswered questions, similar ones grouped across languages)")
    for gap in result.gaps[:15]:
        langs = ", ".join(f"{k} {v}" for k, v in gap.languages.items())
        click.echo(f"{gap.count:4d} x [{langs}] " + " | ".join(gap.examples)
                   + _never_mentioned_text(gap))
    if not result.gaps:
        click.echo("   none")
    click.echo("\n" + click.style("Articles that most often fail to help", bold=True))
    click.echo(f"{'article':36s} {'views':>5s} {'helpful':>7s} {'not':>4s} {'tickets':>7s}")
    for stats in result.articles[:15]:
        click.echo(f"{stats.article_id:36s} {stats.views:5d} {stats.helpful:7d} "
                   f"{stats.not_helpful:4d} {stats.tickets_after_view:7d}")
    click.echo("\n" + click.style("Translations to write or update", bold=True) +
               " (by demand from customers in that language)")
    todo = [row for row in result.translations if row.status != "ok"]
    for row in todo[:20]:
        click.echo(f"{row.status:8s} {row.lang}/{row.slug:30s} needed {row.demand} time(s)")
    if not todo:
        click.echo("   every translation is present and current")


def _never_mentioned_text(gap: Any) -> str:
    """What a gap's questions name that no article does, as `kb gaps` and `kb report` show it."""
    if not gap.never_mentioned:
        return ""
    return "  (never mentioned in the articles: " + ", ".join(
        f"{word} {count}" for word, count in gap.never_mentioned) + ")"


def _gaps(ctx: Context, start: Any, end: Any) -> list[Any]:
    from kb.db import Database
    from kb.report import DateRange, content_gaps
    from kb.searcher import model_for
    from search.embedder import ModelLoadError

    try:
        embedder = model_for(ctx.settings)
    except ModelLoadError as exc:
        raise _fail_on(exc) from None
    with Database(ctx.settings["DATABASE_URL"]).session() as session:
        return content_gaps(session, embedder, DateRange(start, end))


@main.group(invoke_without_command=True)
@click.option("--from", "start", callback=_date, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", callback=_date, help="Last day (YYYY-MM-DD).")
@click.pass_context
def gaps(click_ctx: click.Context, start: Any, end: Any) -> None:
    """Clusters of unanswered questions and tickets, biggest first (as on the dashboard)."""
    click_ctx.ensure_object(Context)
    click_ctx.meta["gap_dates"] = (start, end)
    if click_ctx.invoked_subcommand is not None:
        return
    found = _gaps(click_ctx.obj, start, end)
    for number, gap in enumerate(found, 1):
        langs = ", ".join(f"{k} {v}" for k, v in gap.languages.items())
        click.echo(f"{number:3d}. {gap.count} x [{langs}] {gap.typical[:100]}"
                   + _never_mentioned_text(gap))
        for _lang, example in gap.questions[1:3]:
            click.echo(f"       {example[:100]}")
    if not found:
        click.echo("no unanswered questions or tickets")
    else:
        click.echo("\nWrite a draft article for one with: kb gaps draft N")


@gaps.command("draft")
@click.argument("number", type=click.IntRange(1))
@click.option("--articles-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Articles folder (default: the ARTICLES_DIR setting).")
@click.pass_context
def gaps_draft(click_ctx: click.Context, number: int, articles_dir: Path | None) -> None:
    """Write a draft article (status: draft) for gap NUMBER of `kb gaps`."""
    from kb.gap_draft import write_draft

    ctx: Context = click_ctx.ensure_object(Context)
    found = _gaps(ctx, *click_ctx.meta.get("gap_dates", (None, None)))
    if number > len(found):
        raise click.BadParameter(f"there are {len(found)} gaps; run 'kb gaps' to see them",
                                 param_hint="NUMBER")
    try:
        path = write_draft(found[number - 1], ctx.articles_dir(articles_dir),
                           ctx.settings["LANGUAGES"], ctx.settings["SOURCE_LANGUAGE"])
    except OSError as exc:
        raise click.ClickException(f"cannot write the draft: {exc}") from None
    click.echo(f"wrote {path} (status: draft, not served); finish it, run 'kb check', then set "
               "status: published")


@main.command()
@click.option("--days", type=click.IntRange(0), help="Override KB_RETENTION_DAYS.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@pass_context
def purge(ctx: Context, days: int | None, dry_run: bool) -> None:
    """Remove customers' emails and free text older than the retention period."""
    from kb.db import Database
    from kb.retention import purge as purge_data

    retention = ctx.settings["RETENTION_DAYS"] if days is None else days
    result = purge_data(Database(ctx.settings["DATABASE_URL"]), retention,
                        bool(ctx.settings["WEBHOOK_URL"] or ctx.settings["SMTP_URL"]),
                        dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} data older than {retention} days ({result.cutoff:%Y-%m-%d %H:%M} UTC): "
               f"{result.events} events, {result.feedback} feedback, {result.tickets} tickets")
