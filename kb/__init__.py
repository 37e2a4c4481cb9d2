"""The Flask service around the search library: application factory and blueprints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from kb.services import Services
    from kb.site_content import ContentSource

API_PREFIX = "/api/v1"
# The bearer token of the admin endpoints, as the OpenAPI document names it.
ADMIN_SECURITY_SCHEME = "adminToken"


def create_app(test_config: dict[str, Any] | None = None,
               ready: Services | None = None,
               site_content: ContentSource | None = None) -> Flask:
    """Build the app: defaults, then the instance config file, then KB_* variables, then tests;
    with its services built from those settings unless `ready` ones are given. `site_content`
    replaces what the help center shows (`kb preview` shows the working folder)."""
    # Imported here rather than above: the `kb` command imports this package, and `kb check`
    # or `kb --help` must not wait for Flask, SQLAlchemy and the model stack.
    import logging
    from pathlib import Path

    from flask import Flask, jsonify
    from flask.typing import ResponseReturnValue
    from sqlalchemy.orm import configure_mappers

    from kb.errors import ServiceApi, register_error_handlers
    from kb.security import init_security
    from kb.server_timing import init_server_timing
    from kb.services import EXTENSION, build_services, services
    from kb.settings import load_settings
    from kb.validation import (openapi_keywords, refuse_oversized_streamed_body,
                               require_utf8_query_string)

    settings = load_settings(overrides=test_config)
    instance_path = Path(settings["INSTANCE_PATH"]).resolve()
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(settings)
    app.config.update(
        MAX_CONTENT_LENGTH=settings["MAX_BODY_BYTES"],
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

    app.extensions[EXTENSION] = ready if ready is not None else build_services(settings)

    if settings["PROXY_COUNT"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a load balancer the client is in X-Forwarded-For, not the socket address;
        # rate limits would otherwise count every customer as the proxy.
        count = settings["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                x_host=count)

    api = ServiceApi(app)
    api.ma_plugin.converter.add_attribute_function(openapi_keywords(settings))
    api.spec.components.security_scheme(ADMIN_SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer", "description": "The KB_ADMIN_TOKEN setting."})
    from kb import admin_api, articles_api, events_api, feedback_api, health, search_api, \
        tickets_api

    for module in (search_api, articles_api, feedback_api, tickets_api, events_api, health,
                   admin_api):
        api.register_blueprint(module.bp, url_prefix=API_PREFIX)
    admin_api.document_rules(api.spec)
    from kb import widget_routes
    from kb.dashboard import init_dashboard
    from kb.site import init_site

    app.register_blueprint(widget_routes.bp)
    init_dashboard(app)
    init_site(app, site_content, preview=site_content is not None)
    init_security(app)
    # After flask-smorest's own handlers, so every error takes our one shape.
    register_error_handlers(app)

    @app.before_request
    def start_background_work() -> None:
        services(app).outbox.ensure_running()
        services(app).follower.check_soon()

    @app.get("/")
    def index() -> ResponseReturnValue:
        return jsonify({"service": "Driftbox Help API", "api": API_PREFIX,
                        "openapi": f"{API_PREFIX}/openapi.json",
                        "health": f"{API_PREFIX}/health"})

    # SQLAlchemy sets up the models' mappings on first use; doing it here puts them in the
    # preloaded master's pages, shared by the workers, instead of a copy in each worker.
    configure_mappers()
    return app
