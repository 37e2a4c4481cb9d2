"""Entry point for WSGI servers: `gunicorn wsgi:app`."""

import sys

from kb import create_app
from kb.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    # The operator reads which setting is wrong, not a traceback; there is nothing to serve.
    sys.exit(f"kb: {exc}")
