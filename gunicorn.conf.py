"""gunicorn settings: `gunicorn --config gunicorn.conf.py wsgi:app` (KB_BIND, KB_WORKERS)."""

from kb.settings import load_settings

_settings = load_settings()
bind = _settings["BIND"]
workers = _settings["WORKERS"]
# Load the app (model and index) once in the master, so workers share those memory pages.
preload_app = True
timeout = 60
accesslog = "-"
