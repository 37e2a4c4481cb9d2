"""Entry point for WSGI servers: `gunicorn wsgi:app`."""

from kb import create_app

app = create_app()
