"""gunicorn settings: `gunicorn --config gunicorn.conf.py wsgi:app` (KB_BIND, KB_WORKERS)."""

import os

# Before the app loads the model: MKL, which does its matrix products, otherwise keeps a pool of
# buffers for every thread that ever ran one and never hands it back; with 4 threads that was
# about 15 MB of each worker's own memory, and costs no measurable time per query to go without.
os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")

from kb.settings import load_settings  # noqa: E402

_settings = load_settings()
bind = _settings["BIND"]
workers = _settings["WORKERS"]
# gunicorn's threaded worker, changed to read each request before a thread runs it and to close
# clients that take longer than KB_REQUEST_TIMEOUT (kb/worker.py): slow clients cannot take the
# threads. The threads overlap waiting (database, disk) with model work; the model itself is
# limited to each worker's share of the cores in post_fork.
worker_class = "kb.worker.RequestBufferingWorker"
threads = 4
# Idle keep-alive connections hold no thread; 5 s lets search-as-you-type reuse one connection.
keepalive = 5
# Load the app (model and index) once in the master, so workers share those memory pages.
preload_app = True
# With threads the worker's event loop answers gunicorn's heartbeat even during a long request,
# so this only catches a worker that is stuck as a whole.
timeout = 60
accesslog = "-"
# Leaves out gunicorn's walk over every logger in each new worker (kb/prefork.py).
logger_class = "kb.prefork.SharedPagesLogger"


# The hooks gunicorn calls by these names (kb/prefork.py).
from kb.prefork import post_fork, pre_fork, when_ready, worker_exit  # noqa: E402,F401
