"""The service run as it is deployed: `gunicorn --config gunicorn.conf.py <app>`, in a process
group of its own so that a test can always end it, master and workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.articles import REPO, write_small_help_center

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


@dataclass
class GunicornService:
    """A running `gunicorn --config gunicorn.conf.py` master, its settings and its log."""

    url: str
    settings: dict[str, Any]
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        """(status, headers, raw body) of one request on a new connection."""
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines gunicorn and the app wrote."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def gunicorn_service(root: Path, model: str, **settings: str) -> Iterator[GunicornService]:
    """The service as the README deploys it (2 workers, `kb index` first), with the fake model
    registered, on a small English help center in `root`; `settings` are KB_* values without
    the prefix. Stops master and workers afterwards."""
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    articles = write_small_help_center(root / "articles")
    env = service_env(KB_INSTANCE_PATH=str(root / "instance"), KB_ARTICLES_DIR=str(articles),
                      KB_LANGUAGES="en", KB_MODEL=model, KB_BIND=f"127.0.0.1:{free_port()}",
                      KB_WORKERS="2", KB_OUTBOX_INTERVAL="0",
                      **{f"KB_{name}": value for name, value in settings.items()})
    service_settings = load_settings(environ=env)
    build_and_publish(service_settings)
    log = root / "gunicorn.log"
    process = start_gunicorn(FAKE_MODEL_APP, env, log)
    service = GunicornService(f"http://{env['KB_BIND']}", service_settings, process, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{service.log_tail()}")
            try:
                if service.request("GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield service
    finally:
        stop_gunicorn(process, signal.SIGINT, seconds=10)  # gunicorn's quick shutdown
