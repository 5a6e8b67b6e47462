"""The ``sprechzimmer`` console script: Django's management commands and our own."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sprechzimmer", *sys.argv[1:]])


if __name__ == "__main__":
    main()
