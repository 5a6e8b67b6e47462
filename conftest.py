"""Test-run environment, set before Django reads its settings (settings come from the environment)."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="sz-test-"))
os.makedirs(os.path.join(os.environ["DATA_DIR"], "static"), exist_ok=True)
os.environ["SECURE_HTTPS"] = "false"
# Connections opened in database_sync_to_async threads must not outlive their call, or the test
# database cannot be dropped at the end of the run.
os.environ["DATABASE_CONN_MAX_AGE"] = "0"
os.environ["DJANGO_SETTINGS_MODULE"] = "sprechzimmer.settings"
os.environ.pop("EMAIL_HOST", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

# Tests run with the production static-file setup (WhiteNoise manifest), so collect once. Under
# pytest-xdist the controller has collected before it started the workers, and the workers share its
# DATA_DIR (inherited through the environment): two workers collecting into it at the same time
# delete each other's files ("No such file or directory: .../account.<hash>.js").
if not (os.environ.get("PYTEST_XDIST_WORKER") and (settings.STATIC_ROOT / "staticfiles.json").exists()):
    call_command("collectstatic", "--noinput", verbosity=0)


#: Tests that must run on one worker, one after another, in file order, by the name of their group:
#: modules whose later tests continue with what their first test made (a module-scoped fixture on
#: the worker's live server), and the conferences (four browsers decoding video each: two of them
#: at once starve a 2-core machine, and media timeouts fail).
ONE_WORKER = {
    "tests/browser/test_onboarding.py": "onboarding",
    "tests/browser/test_invitation_mail.py": "invitation-mail",
    "tests/browser/test_conference.py": "conference",
    "tests/browser/test_conference_changes.py": "conference",
    "tests/browser/test_conference_screen.py": "conference",
    "tests/browser/test_conference_pair.py": "conference",
}


def pytest_xdist_make_scheduler(config, log):
    """Spreads tests one by one over the workers (like xdist's default "load"), except the modules
    in ONE_WORKER, each group of which goes to one worker whole and first (they are long). xdist's "loadgroup"
    would do this by marker, but under pytest 9 its renaming of the node ids has no effect and the
    module was split (test_onboarding failed with "runs after the module's other tests"). An
    explicit --dist other than "load" is left to xdist."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneByOneExceptModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return ONE_WORKER.get(nodeid.split("::", 1)[0], nodeid)

    return OneByOneExceptModules(config, log)
