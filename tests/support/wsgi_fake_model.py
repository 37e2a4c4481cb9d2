"""`wsgi.py` with the fast fake model registered, for tests that run the service under gunicorn.

Run: gunicorn --config gunicorn.conf.py tests.support.wsgi_fake_model:app (with KB_MODEL=fake).
"""

import torch  # noqa: F401 - imported once in the master, as the real model does, not per worker

from kb.searcher import use_model
from tests.support.fakes import FakeEmbedder

use_model("fake", FakeEmbedder("fake"))

from wsgi import app  # noqa: E402 - the fake must be registered before the app loads its model

__all__ = ["app"]
