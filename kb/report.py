"""Deflection insights from the stored events: funnel, content gaps, article performance,
translation health. The SQL is plain enough to run the same on SQLite and PostgreSQL.

Definitions (docs/insights.md and docs/tickets.md repeat them):
- a widget session is the events sharing one `session_id`; its language and day are those of its
  first event;
- a deflection is confirmed, pending or cancelled as kb/deflection.py defines them;
- deflection rate = confirmed / (confirmed + tickets).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Subquery, case, func, select
from sqlalchemy.orm import Session, aliased

from kb.deflection import DEFINITIONS, STATES, classify
from kb.models import Event, Feedback, Ticket
from search import ArticleSet, is_stale

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Seven or more digits with the usual separators; ISO dates are left alone.
PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d ().-]{5,}\d(?![\w-])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask_phone(match: re.Match[str]) -> str:
    number = match.group(0)
    if ISO_DATE.fullmatch(number) or sum(c.isdigit() for c in number) < 7:
        return number
    return "[phone]"


def redact(text: str) -> str:
    """Reports never show email addresses or phone numbers, even ones customers typed into a
    message."""
    return PHONE.sub(_mask_phone, EMAIL.sub("[email]", text))


@dataclass(frozen=True)
class DateRange:
    """Inclusive dates; None means open-ended."""

    start: dt.date | None = None
    end: dt.date | None = None

    def clauses(self, column: Any) -> list[Any]:
        out = []
        if self.start:
            out.append(column >= dt.datetime.combine(self.start, dt.time.min))
        if self.end:
            out.append(column < dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))
        return out


FUNNEL_COUNTS = ("sessions", "searched", "suggestions_shown", "opened", "helpful", *STATES,
                 "tickets")


@dataclass
class FunnelRow:
    period: str
    lang: str
    sessions: int = 0
    searched: int = 0
    suggestions_shown: int = 0
    opened: int = 0
    helpful: int = 0
    confirmed: int = 0
    pending: int = 0
    cancelled: int = 0
    tickets: int = 0

    @property
    def deflection_rate(self) -> float | None:
        total = self.confirmed + self.tickets
        return round(self.confirmed / total, 4) if total else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "deflection_rate": self.deflection_rate}


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def period_key(day: str, period: str) -> str:
    """'2026-11-22' by day, or the Monday of its ISO week ('2026-W47') by week."""
    if period == "day":
        return day
    year, week, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def session_facts(dates: DateRange) -> Subquery:
    """One row per widget session: its day and language, which are those of its first event
    (whatever later events say: a Russian session whose input was repaired stays Russian), and
    how far it got."""
    def reached(*types: str) -> Any:
        return func.max(case((Event.type.in_(types), 1), else_=0))

    steps = (
        select(Event.session_id.label("sid"), func.min(Event.id).label("first_id"),
               reached("search").label("searched"), reached("suggestions_shown").label("shown"),
               reached("article_opened").label("opened"),
               reached("deflected", "helpful").label("helpful"))
        .where(Event.session_id.is_not(None), *dates.clauses(Event.created_at))
        .group_by(Event.session_id)
        .subquery())
    first = aliased(Event)
    return (select(steps, func.date(first.created_at).label("day"), first.lang.label("lang"))
            .join(first, first.id == steps.c.first_id)
            .subquery())


def funnel(session: Session, dates: DateRange = DateRange(), period: str = "day",
           window_days: int = 7, now: dt.datetime | None = None) -> list[FunnelRow]:
    """Sessions and how far they got, per period and language, with their deflections
    (kb/deflection.py) and the tickets created."""
    facts = session_facts(dates)
    rows = session.execute(
        select(facts.c.day, facts.c.lang, func.count(), func.sum(facts.c.searched),
               func.sum(facts.c.shown), func.sum(facts.c.opened), func.sum(facts.c.helpful))
        .group_by(facts.c.day, facts.c.lang))
    table: dict[tuple[str, str], FunnelRow] = {}
    for day, lang, sessions, searched, shown, opened, helpful in rows:
        key = (period_key(_day(day), period), lang or "?")
        row = table.setdefault(key, FunnelRow(*key))
        row.sessions += sessions
        row.searched += int(searched or 0)
        row.suggestions_shown += int(shown or 0)
        row.opened += int(opened or 0)
        row.helpful += int(helpful or 0)
    deflections = classify(session, select(facts.c.sid), window_days, now)
    if deflections:
        for sid, day, lang in session.execute(
                select(facts.c.sid, facts.c.day, facts.c.lang)
                .where(facts.c.sid.in_(select(Event.session_id)
                                       .where(Event.type == "deflected")))):
            if sid in deflections:
                row = table[(period_key(_day(day), period), lang or "?")]
                state = deflections[sid].state
                setattr(row, state, getattr(row, state) + 1)
    tickets = session.execute(
        select(func.date(Ticket.created_at), Ticket.lang, func.count())
        .where(*dates.clauses(Ticket.created_at))
        .group_by(func.date(Ticket.created_at), Ticket.lang))
    for day, lang, count in tickets:
        key = (period_key(_day(day), period), lang)
        table.setdefault(key, FunnelRow(*key)).tickets += count
    return [table[key] for key in sorted(table)]


def funnel_totals(rows: Sequence[FunnelRow]) -> dict[str, FunnelRow]:
    """The funnel summed over all periods, per language and for 'all'."""
    totals: dict[str, FunnelRow] = {}
    for row in rows:
        for lang in (row.lang, "all"):
            total = totals.setdefault(lang, FunnelRow("total", lang))
            for name in FUNNEL_COUNTS:
                setattr(total, name, getattr(total, name) + getattr(row, name))
    # Languages in order, then the sum of them all, last (as a table's total row is).
    return {lang: totals[lang] for lang in sorted(totals, key=lambda lang: (lang == "all", lang))}


@dataclass
class Gap:
    """Similar unanswered questions, in any language."""

    count: int
    languages: dict[str, int]
    examples: list[str]
    no_suggestion: int = 0
    ticket: int = 0
    typical: str = ""  # the question nearest the cluster's centre
    # (language, question) for every one, masked, the most typical first
    questions: list[tuple[str, str]] = field(default_factory=list)
    # What its questions name that no article does ("bankid", "jira"), with how many sessions
    # named it: what a new article would have to speak of.
    never_mentioned: list[tuple[str, int]] = field(default_factory=list)


# A word the articles never use is shown for a gap once this many sessions named it: what
# customers keep asking about, not one customer's name or order number.
MIN_SESSIONS_NAMING = 2
NEVER_MENTIONED_SHOWN = 5


def _unanswered(session: Session, dates: DateRange
                ) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(question, language, reason, words no article uses) for sessions whose last search found
    nothing, and tickets."""
    last = (select(Event.session_id, func.max(Event.id).label("last_id"))
            .where(Event.type == "search", Event.session_id.is_not(None),
                   *dates.clauses(Event.created_at))
            .group_by(Event.session_id).subquery())
    with_ticket = {sid for (sid,) in session.execute(
        select(Ticket.session_id).where(Ticket.session_id.is_not(None)))}
    items: list[tuple[str, str, str, tuple[str, ...]]] = []
    for event in session.scalars(select(Event).join(last, Event.id == last.c.last_id)):
        if event.session_id in with_ticket or not event.query:
            continue
        data = event.data or {}
        if data.get("abstained"):
            items.append((event.query, event.lang or "?", "no_suggestion",
                          tuple(data.get("unknown_words") or ())))
    for ticket in session.scalars(select(Ticket).where(*dates.clauses(Ticket.created_at))):
        items.append((f"{ticket.subject}. {ticket.message}", ticket.lang, "ticket", ()))
    return items


def content_gaps(session: Session, embedder: Any, dates: DateRange = DateRange(),
                 similarity: float = 0.6, examples: int = 3) -> list[Gap]:
    """Cluster unanswered questions by meaning, so near-identical ones (in any language) count
    together; biggest clusters first. `embedder` needs `encode_queries` (the search model)."""
    items = _unanswered(session, dates)
    if not items:
        return []
    vectors = np.asarray(embedder.encode_queries([text for text, *_ in items]))
    labels = _cluster(vectors, similarity)
    groups: dict[int, list[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        groups[int(label)].append(position)
    gaps = []
    for members in groups.values():
        langs: dict[str, int] = defaultdict(int)
        # The same question asked again says nothing new: show different ones.
        distinct = list(dict.fromkeys(redact(items[m][0])[:200] for m in members))
        gap = Gap(len(members), {}, distinct[:examples])
        for m in members:
            langs[items[m][1]] += 1
            setattr(gap, items[m][2], getattr(gap, items[m][2]) + 1)
        gap.languages = dict(sorted(langs.items()))
        centre = vectors[members].mean(axis=0)
        order = sorted(members, key=lambda m: -float(vectors[m] @ centre))
        gap.questions = [(items[m][1], redact(items[m][0])) for m in order]
        gap.typical = gap.questions[0][1]
        gap.never_mentioned = _never_mentioned(items[m][3] for m in members)
        gaps.append(gap)
    return sorted(gaps, key=lambda g: (-g.count, g.examples[0]))


def _never_mentioned(words_per_question: Iterable[tuple[str, ...]]) -> list[tuple[str, int]]:
    """The words no article uses that several of a gap's questions named, most named first."""
    named = Counter(word for words in words_per_question for word in set(words)
                    if redact(word) == word)  # never an address or a number someone typed
    return [(word, count) for word, count in sorted(named.items(), key=lambda item: (-item[1],
                                                                                    item[0]))
            if count >= MIN_SESSIONS_NAMING][:NEVER_MENTIONED_SHOWN]


def _cluster(vectors: np.ndarray, similarity: float) -> np.ndarray:
    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                    distance_threshold=1 - similarity)
    return model.fit_predict(vectors)


@dataclass
class ArticleStats:
    article_id: str
    views: int = 0
    helpful: int = 0
    not_helpful: int = 0
    tickets_after_view: int = 0

    @property
    def failures(self) -> int:
        return self.not_helpful + self.tickets_after_view

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failures": self.failures}


def article_performance(session: Session, dates: DateRange = DateRange()) -> list[ArticleStats]:
    """Views, helpful votes and tickets after viewing, per article; least helpful first."""
    stats: dict[str, ArticleStats] = {}

    def get(article_id: str) -> ArticleStats:
        return stats.setdefault(article_id, ArticleStats(article_id))

    for article_id, views in session.execute(
            select(Event.article_id, func.count()).where(
                Event.type == "article_opened", Event.article_id.is_not(None),
                *dates.clauses(Event.created_at)).group_by(Event.article_id)):
        get(article_id).views = views
    for article_id, helpful, count in session.execute(
            select(Feedback.article_id, Feedback.helpful, func.count())
            .where(*dates.clauses(Feedback.created_at))
            .group_by(Feedback.article_id, Feedback.helpful)):
        if helpful:
            get(article_id).helpful = count
        else:
            get(article_id).not_helpful = count
    viewed = (select(Event.session_id, Event.article_id)
              .where(Event.type == "article_opened", Event.session_id.is_not(None),
                     *dates.clauses(Event.created_at)).distinct().subquery())
    for article_id, count in session.execute(
            select(viewed.c.article_id, func.count(func.distinct(Ticket.id)))
            .join(Ticket, Ticket.session_id == viewed.c.session_id)
            .group_by(viewed.c.article_id)):
        get(article_id).tickets_after_view = count
    return sorted(stats.values(), key=lambda s: (-s.failures, -s.views, s.article_id))


@dataclass
class TranslationRow:
    slug: str
    lang: str
    status: str  # "missing", "stale", "ok"
    demand: int  # articles of this slug opened by customers writing in `lang`
    title: str = ""


def translation_health(session: Session, articles: ArticleSet, source_language: str,
                       dates: DateRange = DateRange()) -> list[TranslationRow]:
    """Per article and language: missing, stale or ok, ordered by how often customers in that
    language needed the article (problems first)."""
    demand: dict[tuple[str, str], int] = defaultdict(int)
    for lang, article_id, count in session.execute(
            select(Event.lang, Event.article_id, func.count())
            .where(Event.type == "article_opened", Event.article_id.is_not(None),
                   Event.lang.is_not(None), *dates.clauses(Event.created_at))
            .group_by(Event.lang, Event.article_id)):
        demand[(article_id.rsplit("/", 1)[-1], lang)] += count
    rows = []
    for slug in articles.slugs():
        versions = articles.translations(slug)
        source = versions.get(source_language)
        if source is None or not source.published:
            continue
        for lang in articles.languages:
            if lang == source_language:
                continue
            version = versions.get(lang)
            status = ("missing" if version is None else
                      "stale" if is_stale(version, source) else "ok")
            rows.append(TranslationRow(slug, lang, status, demand[(slug, lang)], source.title))
    order = {"missing": 0, "stale": 0, "ok": 1}
    return sorted(rows, key=lambda r: (order[r.status], -r.demand, r.slug, r.lang))


@dataclass
class Report:
    """Everything `kb report` and the dashboard show."""

    funnel: list[FunnelRow]
    totals: dict[str, FunnelRow]
    gaps: list[Gap]
    articles: list[ArticleStats]
    translations: list[TranslationRow]
    period: str
    dates: DateRange = field(default_factory=DateRange)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "from": self.dates.start.isoformat() if self.dates.start else None,
            "to": self.dates.end.isoformat() if self.dates.end else None,
            "funnel": [r.to_dict() for r in self.funnel],
            "totals": {k: v.to_dict() for k, v in self.totals.items()},
            "definitions": DEFINITIONS,
            "content_gaps": [{k: v for k, v in asdict(g).items() if k != "questions"}
                             for g in self.gaps],
            "articles": [a.to_dict() for a in self.articles],
            "translations": [asdict(t) for t in self.translations],
        }


def build_report(session: Session, embedder: Any, articles: ArticleSet,
                 settings: Mapping[str, Any], dates: DateRange = DateRange(),
                 period: str = "day", now: dt.datetime | None = None) -> Report:
    """Everything the dashboard and `kb report` show, for these dates."""
    rows = funnel(session, dates, period, settings["DEFLECTION_WINDOW_DAYS"], now)
    return Report(rows, funnel_totals(rows), content_gaps(session, embedder, dates),
                  article_performance(session, dates),
                  translation_health(session, articles, settings["SOURCE_LANGUAGE"], dates),
                  period, dates)
