"""`GET /api/v1/health`: is the service up, and what does it serve."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from marshmallow import Schema, fields

from kb.errors import ErrorSchema, error_response
from kb.services import services
from kb.validation import ApiBlueprint

bp = ApiBlueprint("health", __name__, description="Service health")


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "Always ok on a 200."})
    database = fields.String(metadata={"description": "ok or unreachable"})
    model = fields.String()
    index_built_at = fields.String()
    index_build = fields.String(metadata={"description": "The build's folder name."})
    index_identity = fields.String(metadata={
        "description": "A hash of what the index contains: replicas serving the same content "
                       "show the same one."})
    articles = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Indexed articles per language."})


@bp.route("/health")
class Health(MethodView):
    @bp.alt_response(200, schema=HealthSchema, description="Serving")
    @bp.alt_response(503, schema=ErrorSchema, description="No index loaded or the database is "
                     "unreachable; `details` holds what is known (the fields of a 200)")
    def get(self) -> ResponseReturnValue:
        """Model, index build time, articles per language, database reachability."""
        live = services().live_index
        snapshot = live.current()
        database = services().database.reachable()
        body: dict[str, object] = {"database": "ok" if database else "unreachable"}
        if snapshot is not None:
            index = snapshot.engine.index
            manifest = index.manifest
            # Counted from the positions per language rather than by visiting every document:
            # a worker copies each page of the preloaded index whose objects it touches, and
            # load balancers ask for health every few seconds.
            body.update({"model": manifest["model"], "index_built_at": manifest["built_at"],
                         "index_build": snapshot.build_name, "index_identity": index.identity,
                         "articles": {lang: len(index.positions_by_lang.get(lang, ()))
                                      for lang in current_app.config["LANGUAGES"]}})
        else:
            body["index"] = "not loaded (see the service log)"
        if snapshot is None or not database:
            return error_response(503, "unhealthy", "the service cannot answer fully", body)
        return jsonify({"status": "ok", **body})
