"""Test-run environment, set before Django reads its settings (settings come from the environment)."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="sz-test-"))
os.environ["SECURE_HTTPS"] = "false"
os.environ["DJANGO_SETTINGS_MODULE"] = "sprechzimmer.settings"
os.environ.pop("EMAIL_HOST", None)
