"""gunicorn's hooks (named in gunicorn.conf.py), and what the master does so that its workers
keep sharing its memory.

With `preload_app` the workers are forked from a master that has loaded the model, the index and
all the code. A page stays shared until a process writes to it, and CPython writes to every object
it merely uses (its reference count), so each worker's own memory is the pages it has written.
Two things made every worker write pages for no benefit: work done lazily on the first requests
(each worker then built its own copy), and gunicorn's worker start-up visiting every logger.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

log = logging.getLogger(__name__)

# Not a customer: the rate limiter counts these requests under this name.
WARM_UP_ADDRESS = "prefork-warm-up"


def warm_up_requests(app: Any) -> None:
    """Answer a health check and a search in every language in the master, before forking.

    The engine warms itself when the index loads, but the first request through Flask, its
    extensions and the database layer builds caches and compiles things of its own; done here,
    they sit in pages every worker shares. Measured: the first two requests wrote 12.0 MB of the
    master's pages in each worker before, 4.4 MB after; a worker's private memory after 2,000
    questions is about 5 MB smaller. A failure is only logged: warming up must never keep the
    service from starting.
    """
    client = app.test_client()
    paths = ["/api/v1/health"] + [f"/api/v1/search?q=help&lang={lang}&limit=5"
                                  for lang in app.config.get("LANGUAGES", ())]
    for path in paths:
        try:
            status = client.get(path, environ_base={"REMOTE_ADDR": WARM_UP_ADDRESS}).status_code
        except Exception as exc:  # noqa: BLE001 - anything at all: the service still starts
            log.warning("warm-up request %s failed before the workers started: %s", path, exc)
            continue
        if status >= 500:
            log.warning("warm-up request %s answered %s before the workers started", path, status)


class SharedPagesLogger(GunicornLogger):
    """gunicorn's logger, without its walk over every logger in each new worker.

    At start-up each worker sets close-on-exec on the files of every logger there is (about 600
    with the service's libraries), which writes to each Logger object: 4 MB of the master's
    pages copied into every worker at start, about 2 MB of them still only that worker's after
    2,000 questions. The master has done the same walk before forking, the
    flag is inherited with the descriptors, and Python opens files without inheritance anyway
    (PEP 446); so only the process that created this logger walks.
    """

    def __init__(self, cfg: Any):
        super().__init__(cfg)
        self._created_in = os.getpid()

    def close_on_exec(self) -> None:
        if os.getpid() == self._created_in:
            super().close_on_exec()


def _app(server: Any) -> Any:
    """The Flask app gunicorn preloaded (None when it is not a Flask app, as in some tests)."""
    app = getattr(server.app, "callable", None) or getattr(server.app, "wsgi", lambda: None)()
    return app if hasattr(app, "test_client") else None


def when_ready(server: Any) -> None:
    """Before the first worker is forked: the first requests' lazy work, done once, shared."""
    app = _app(server) if server.cfg.preload_app else None
    if app is not None:
        warm_up_requests(app)


def pre_fork(server: Any, worker: Any) -> None:
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


def post_fork(server: Any, worker: Any) -> None:
    """Share the cores between workers and drop connections inherited from the master."""
    import torch

    from kb.services import EXTENSION

    # With the model in PyTorch (KB_MODEL_RUNTIME=torch), each worker would otherwise start one
    # inference thread per core: with several workers the threads fight over the same cores and
    # latency multiplies under load. ONNX Runtime runs each pass on the calling thread anyway.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, server.cfg.workers)))
    app = _app(server)
    ready = app.extensions.get(EXTENSION) if app is not None else None
    if ready is not None:
        ready.database.engine.dispose(close=False)
        ready.outbox.ensure_running()  # retry queued tickets even before the first request
        ready.live_index.watch()  # a quiet worker picks up a new index too, not at its next request


def worker_exit(server: Any, worker: Any) -> None:
    """Leave at once when a worker has finished its requests.

    By now every request is answered and every ticket committed; the searches and events still
    queued are written here (kb/event_log.py). What is left after that is the interpreter's own
    clean-up, freeing the index, the model and the lexicons object by object:
    in a forked worker each free writes to pages it shares with the master, so the kernel copies
    them first, and that took several seconds per worker on every restart and deploy. The exit
    status is kept (gunicorn stops when a worker cannot boot).
    """
    if os.getpid() != worker.pid:
        return  # the master tidying up after a worker that is already gone
    error = sys.exc_info()[1]
    from kb.services import EXTENSION

    app = _app(server) if server is not None else None
    ready = app.extensions.get(EXTENSION) if app is not None else None
    if ready is not None:
        try:
            ready.event_log.close()
        except Exception:  # noqa: BLE001 - the worker must still leave, with its own status
            logging.getLogger(__name__).exception("queued events not written at exit")
    status = error.code if isinstance(error, SystemExit) else (1 if error else 0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status if isinstance(status, int) else 1)
