"""Test settings: the real settings, with a throw-away data directory and the immediate task backend."""

import os
import tempfile

os.environ.setdefault("GARDE_DATA_DIR", tempfile.mkdtemp(prefix="garde-test-"))
os.environ.setdefault("GARDE_INSECURE_HTTP", "yes")

from garde.settings import *  # noqa: E402,F403
from garde.settings import DATA_DIR, DATABASES  # noqa: E402

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: the concurrency tests need real SQLite locking between threads.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
