"""What the gunicorn master does so that its workers keep sharing its memory.

With `preload_app` the workers are forked from a master that has loaded the model, the index and
all the code. A page stays shared until a process writes to it, and CPython writes to every object
it merely uses (its reference count), so each worker's own memory is the pages it has written.
Two things made every worker write pages for no benefit: work done lazily on the first requests
(each worker then built its own copy), and gunicorn's worker start-up visiting every logger.
"""

from __future__ import annotations

import logging
import os
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
