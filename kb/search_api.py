"""`GET /api/v1/search`: answers for a customer's question, in their language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from kb.errors import ServiceUnavailable
from kb.security import limiter, search_limit
from kb.services import services
from kb.validation import ApiBlueprint, ConfiguredLanguage, MaxChars
from search import Result, SearchResponse, to_json

bp = ApiBlueprint("search", __name__, description="Search the help center")


def search_event_data(response: SearchResponse,
                      shown: Sequence[Result] | None = None) -> dict[str, Any]:
    """What a recorded search keeps for the reports, from the widget's API and the help-center
    pages alike: whether it found nothing, the first results shown (by default the answer's),
    and the words no article uses (content gaps show what new articles would have to speak
    of)."""
    shown = response.results if shown is None else shown
    data: dict[str, Any] = {"abstained": response.abstained,
                            "results": [r.id for r in shown[:5]]}
    if response.unknown_words:
        data["unknown_words"] = list(response.unknown_words)
    return data


class SearchArgs(Schema):
    q = fields.String(required=True, validate=MaxChars("MAX_QUERY_CHARS", min_chars=1),
                      metadata={"description": "The customer's question, in their own words."})
    lang = fields.String(validate=ConfiguredLanguage(),
                         metadata={"description": "Answer language; wins over detection."})
    hint = fields.String(validate=ConfiguredLanguage(), metadata={
        "description": "A likely language (e.g. the page's); clear evidence in the text wins."})
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))
    session_id = fields.String(validate=MaxChars(100), metadata={
        "description": "The widget's session; the search is then recorded for the reports."})


class ResultSchema(Schema):
    id = fields.String()
    slug = fields.String()
    lang = fields.String()
    title = fields.String()
    summary = fields.String()
    snippet = fields.String(metadata={"description": "HTML-escaped text with <mark> around "
                                                     "the query's words."})
    anchor = fields.String()
    score = fields.Float()
    fallback = fields.Boolean(metadata={"description": "True when in another language than "
                                                       "the one asked for."})


class SearchResponseSchema(Schema):
    query = fields.String()
    lang = fields.String(metadata={"description": "The language used for the answer."})
    repaired_query = fields.String(allow_none=True, metadata={
        "description": "Set when the input was repaired (e.g. keyboard layout): "
                       "show 'Showing results for …'."})
    abstained = fields.Boolean(metadata={"description": "True when nothing answers well "
                                                        "enough: send the customer to a human."})
    results = fields.List(fields.Nested(ResultSchema))
    index_build = fields.String(metadata={
        "description": "The index build that answered (also in /health); every result comes "
                       "from this one build, also while a new one is swapped in."})
    took_ms = fields.Float()


# What an answer and a result show, as the schemas declare them (the engine's ranking signals
# stay inside).
ANSWER_FIELDS = tuple(SearchResponseSchema().fields)
RESULT_FIELDS = tuple(ResultSchema().fields)


@bp.route("/search")
class Search(MethodView):
    @limiter.limit(search_limit)
    @bp.arguments(SearchArgs, location="query", as_kwargs=True)
    @bp.response(200, SearchResponseSchema, headers={"Cache-Status": {
        "description": "Which cache answered (RFC 9211): kb-worker is the worker's own, kb-shared "
                       "the one all replicas share.", "schema": {"type": "string"}}})
    def get(self, q: str, limit: int, lang: str | None = None, hint: str | None = None,
            session_id: str | None = None) -> Response:
        """Suggest articles for a question."""
        snapshot = services().live_index.current()
        if snapshot is None:
            raise ServiceUnavailable(services().live_index.public_error)
        hints = [h for h in (hint, *request.accept_languages.values()) if h]
        response = snapshot.engine.search(q, lang=lang, hints=hints, limit=limit,
                                          trust_lang=lang is not None)
        if session_id:
            # For the funnel and content gaps; queued, written in the next batch (kb/event_log.py).
            services().event_log.record(
                "search", session_id=session_id, lang=response.lang, query=q,
                data=search_event_data(response))
        # The one JSON form of an answer, cut to what the schema shows (the ranking signals stay
        # inside), with the question echoed as the customer typed it.
        answer_json = to_json(response)
        body = {name: answer_json[name] for name in ANSWER_FIELDS if name in answer_json}
        body.update(query=q, index_build=snapshot.build_name,
                    results=[{name: result[name] for name in RESULT_FIELDS}
                             for result in answer_json["results"]])
        shared = snapshot.engine.shared_cache is not None
        # The body already has the schema's shape and plain types: serializing it through the
        # schema again cost more than the rest of answering from the cache (profiled). A test
        # holds the two to the same output.
        answer = current_app.json.response(body)
        answer.headers["Cache-Status"] = cache_status(response.cache, shared)
        return answer


def cache_status(answered_by: str | None, shared: bool) -> str:
    """The Cache-Status header (RFC 9211): which cache level answered, nearest the origin first;
    `kb-shared` is the cache shared by all replicas, `kb-worker` each worker's own."""
    if answered_by == "local":
        return "kb-worker; hit"
    worker = "kb-worker; fwd=uri-miss"
    if not shared:
        return worker
    return f"kb-shared; {'hit' if answered_by == 'shared' else 'fwd=uri-miss'}, {worker}"

