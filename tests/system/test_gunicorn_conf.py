"""gunicorn.conf.py's exit hook: a worker leaves at once, keeping its exit status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.articles import REPO

# A stand-in worker process: it runs the hook the way gunicorn does, from the `finally` of the
# code that ran the worker, then would go on to the interpreter's clean-up (the atexit line).
WORKER = """
import atexit, os, runpy, sys
hooks = runpy.run_path({conf!r})
atexit.register(lambda: print("interpreter clean-up ran", flush=True))
class Worker:
    pid = os.getpid() + {pid_offset}
try:
    {body}
finally:
    print("worker exiting", flush=True)
    hooks["worker_exit"](None, Worker())
"""


def run_worker(body: str, pid_offset: int = 0) -> subprocess.CompletedProcess[str]:
    code = WORKER.format(conf=str(REPO / "gunicorn.conf.py"), pid_offset=pid_offset, body=body)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("body", "status"), [
    ("pass", 0),                  # stopped after its requests
    ("sys.exit(3)", 3),           # could not boot: gunicorn stops instead of respawning
    ("raise RuntimeError()", 1),  # anything else that ended it
])
def test_a_worker_skips_the_clean_up_and_keeps_its_exit_status(body: str, status: int) -> None:
    finished = run_worker(body)
    assert finished.returncode == status, finished.stderr
    assert "worker exiting" in finished.stdout
    assert "interpreter clean-up ran" not in finished.stdout


def test_the_master_tidying_up_after_a_gone_worker_keeps_running() -> None:
    finished = run_worker("pass", pid_offset=1)  # the hook runs in another process than the worker
    assert finished.returncode == 0
    assert "interpreter clean-up ran" in finished.stdout
