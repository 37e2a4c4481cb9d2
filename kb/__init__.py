"""The Flask service around the search library: application factory and blueprints."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy.orm import configure_mappers

from kb.db import Database
from kb.errors import register_error_handlers
from kb.event_log import EventLog
from kb.live_index import LiveIndex
from kb.outbox import BackgroundSender
from kb.reindex import Reindex, ReplicaFollower
from kb.security import init_security
from kb.server_timing import init_server_timing
from kb.settings import load_settings
from kb.validation import refuse_oversized_streamed_body, require_utf8_query_string

API_PREFIX = "/api/v1"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the instance config file, then KB_* variables, then tests."""
    settings = load_settings(overrides=test_config)
    instance_path = Path(settings["INSTANCE_PATH"]).resolve()
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(settings)
    app.config.update(
        MAX_CONTENT_LENGTH=int(settings["MAX_BODY_BYTES"]),
        JSON_SORT_KEYS=False,
        API_TITLE="Driftbox Help API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)
    init_server_timing(app)
    # First of all request hooks: the rate limiter and every view read the query string.
    app.before_request(require_utf8_query_string)
    app.before_request(refuse_oversized_streamed_body)

    database = Database(settings["DATABASE_URL"])
    if settings["AUTO_MIGRATE"]:
        database.upgrade()
    reindex = Reindex(settings, database)
    follower = ReplicaFollower(settings, database, reindex)
    follower.join_from_now()
    # No connection may cross gunicorn's fork: each worker opens its own on first use.
    database.dispose()
    app.extensions["kb_db"] = database
    app.extensions["kb_event_log"] = EventLog(database, int(settings["EVENT_BATCH_SIZE"]),
                                              float(settings["EVENT_FLUSH_SECONDS"]))
    app.extensions["kb_outbox"] = BackgroundSender(
        database, settings["WEBHOOK_URL"], float(settings["WEBHOOK_TIMEOUT"]),
        float(settings["OUTBOX_INTERVAL"]))
    live = LiveIndex(settings)
    live.load_now()
    app.extensions["kb_live_index"] = live
    app.extensions["kb_reindex"] = reindex
    app.extensions["kb_replica_follower"] = follower

    if int(settings["PROXY_COUNT"]) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a load balancer the client is in X-Forwarded-For, not the socket address;
        # rate limits would otherwise count every customer as the proxy.
        count = int(settings["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                x_host=count)

    api = Api(app)
    from kb import admin_api, articles_api, events_api, feedback_api, health, search_api, \
        tickets_api

    for module in (search_api, articles_api, feedback_api, tickets_api, events_api, health,
                   admin_api):
        api.register_blueprint(module.bp, url_prefix=API_PREFIX)
    from kb import widget_routes
    from kb.dashboard import init_dashboard

    app.register_blueprint(widget_routes.bp)
    init_dashboard(app)
    init_security(app)
    # After flask-smorest's own handlers, so every error takes our one shape.
    register_error_handlers(app)

    @app.before_request
    def start_background_work() -> None:
        app.extensions["kb_outbox"].ensure_running()
        app.extensions["kb_replica_follower"].check_soon()

    @app.get("/")
    def index() -> ResponseReturnValue:
        return jsonify({"service": "Driftbox Help API", "api": API_PREFIX,
                        "openapi": f"{API_PREFIX}/openapi.json",
                        "health": f"{API_PREFIX}/health"})

    # SQLAlchemy sets up the models' mappings on first use; doing it here puts them in the
    # preloaded master's pages, shared by the workers, instead of a copy in each worker.
    configure_mappers()
    return app
