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


def _app(server):  # type: ignore[no-untyped-def]
    """The Flask app gunicorn preloaded (None when it is not a Flask app, as in some tests)."""
    app = getattr(server.app, "callable", None) or getattr(server.app, "wsgi", lambda: None)()
    return app if hasattr(app, "test_client") else None


def when_ready(server):  # type: ignore[no-untyped-def]
    """Before the first worker is forked: the first requests' lazy work, done once, shared."""
    from kb.prefork import warm_up_requests

    app = _app(server) if server.cfg.preload_app else None
    if app is not None:
        warm_up_requests(app)


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """Keep the objects of the preloaded app in pages the workers share with the master."""
    import ctypes
    import gc

    # A full garbage collection writes into every object it tracks; in a worker each of those
    # writes copies a page it shared with the master, and the first full collection (after a few
    # thousand requests) made each worker's own memory larger than the model. Frozen objects are
    # never examined again. Collecting first frees the master's garbage instead of keeping it.
    gc.collect()
    gc.freeze()
    # Give the heap pages freed while loading back to the system (glibc): a worker writing into
    # that free memory would otherwise copy each page, and the master keep the unused original
    # (about 25 MB of the master's memory).
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """Share the cores between workers and drop connections inherited from the master."""
    import torch

    # With the model in PyTorch (KB_MODEL_RUNTIME=torch), each worker would otherwise start one
    # inference thread per core: with several workers the threads fight over the same cores and
    # latency multiplies under load. ONNX Runtime runs each pass on the calling thread anyway.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, int(workers))))
    app = _app(server)
    database = getattr(app, "extensions", {}).get("kb_db") if app is not None else None
    if database is not None:
        database.engine.dispose(close=False)
    outbox = getattr(app, "extensions", {}).get("kb_outbox") if app is not None else None
    if outbox is not None:
        outbox.ensure_running()  # retry queued tickets even before the first request



def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """Leave at once when a worker has finished its requests.

    By now every request is answered and every ticket committed; the searches and events still
    queued are written here (kb/event_log.py). What is left after that is the
    interpreter's own clean-up, freeing the index, the model and the lexicons object by object:
    in a forked worker each free writes to pages it shares with the master, so the kernel copies
    them first, and that took several seconds per worker on every restart and deploy. The exit
    status is kept (gunicorn stops when a worker cannot boot).
    """
    import logging
    import os
    import sys

    if os.getpid() != worker.pid:
        return  # the master tidying up after a worker that is already gone
    error = sys.exc_info()[1]
    app = _app(server) if server is not None else None
    event_log = getattr(app, "extensions", {}).get("kb_event_log") if app is not None else None
    if event_log is not None:
        try:
            event_log.close()
        except Exception:  # noqa: BLE001 - the worker must still leave, with its own status
            logging.getLogger(__name__).exception("queued events not written at exit")
    status = error.code if isinstance(error, SystemExit) else (1 if error else 0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status if isinstance(status, int) else 1)
