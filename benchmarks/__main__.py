"""`python -m benchmarks [NAME ...] [--size N] [--repeat N] [-o KEY=VALUE] [--list]`.

Run from the repository root (`make bench` runs it on a throwaway PostgreSQL); `--help` lists
every benchmark's options.
"""

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madeinpk.settings")
    django.setup()
    from benchmarks._runner import Command

    Command().run_from_argv(["python -m", "benchmarks", *sys.argv[1:]])


if __name__ == "__main__":
    main()
