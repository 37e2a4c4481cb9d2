"""The Flask service around the search library: application factory and blueprints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from kb.errors import register_error_handlers
from kb.settings import load_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the instance config file, then KB_* variables, then tests."""
    settings = load_settings(overrides=test_config)
    instance_path = Path(settings["INSTANCE_PATH"]).resolve()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.update(settings)
    instance_path.mkdir(parents=True, exist_ok=True)
    register_error_handlers(app)

    from kb import health

    app.register_blueprint(health.bp, url_prefix="/api/v1")
    return app
