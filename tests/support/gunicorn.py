"""The service run as it is deployed: `gunicorn --config gunicorn.conf.py <app>`, in a process
group of its own so that a test can always end it, master and workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.support.articles import REPO

# The app with the fast fake model registered (KB_MODEL=fake); `wsgi:app` is the real one.
FAKE_MODEL_APP = "tests.support.wsgi_fake_model:app"


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(**settings: str) -> dict[str, str]:
    """This process's environment without its KB_* variables, offline, plus `settings`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
    env["HF_HUB_OFFLINE"] = "1"
    env.update(settings)
    return env


def start_gunicorn(app: str, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn with the repository's config, its output going to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", app],
            cwd=REPO, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)


def stop_gunicorn(process: subprocess.Popen[bytes], how: int = signal.SIGTERM,
                  seconds: float = 30) -> None:
    """Ask gunicorn to stop (SIGTERM: gracefully; SIGINT: at once); after `seconds`, end its
    whole process group."""
    if process.poll() is None:
        process.send_signal(how)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
