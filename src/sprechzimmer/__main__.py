"""The ``sprechzimmer`` console script: Django's management commands and our own.

``sprechzimmer ebm …`` is the billing check; it is pure Python and runs without Django settings.
"""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["ebm"]:
        from sprechzimmer.billing.cli import main as ebm

        sys.exit(ebm(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sprechzimmer", *sys.argv[1:]])


if __name__ == "__main__":
    main()
