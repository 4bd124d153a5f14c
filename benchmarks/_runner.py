"""The runner behind `python -m benchmarks`: finds the benchmark modules, checks the database is
PostgreSQL, passes each its options. A Django command class, run outside manage.py by __main__,
for its option parsing, verbosity and error handling."""

import importlib
import inspect
import logging
import os
import pkgutil
import platform
import time

import django
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

import benchmarks


def benchmark_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if not info.name.startswith("_")
    )


def parse_options(pairs: list[str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise CommandError(f"--option takes KEY=VALUE, not {pair!r}")
        parsed[key] = int(value) if value.lstrip("-").isdigit() else value
    return parsed


def accepted(main, given: dict[str, object]) -> dict[str, object]:
    """The keywords `main` takes: all of them with **options, else only those it names."""
    parameters = inspect.signature(main).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return given
    names = {p.name for p in parameters}
    return {key: value for key, value in given.items() if key in names}


EPILOG = """\
benchmarks and their options (defaults shown; BENCHMARKS.md has the method and figures):
  bids     bid throughput on one hot auction: -o seconds=5 -o bidders=1,8,32
           -o paths=raw,service,websocket -o port=0 (Daphne's; 0 = a free one)
           -o baseline=DIR (also the websocket path served from another checkout)
  browse   browse and search pages: --size 100000 (products seeded; same as -o products=N)
  closing  the closing task over ended auctions: --size 10000 (auctions seeded)
           -o workers=2 (a qcluster's, closing the shares the task queues; 0 = none)
  fanout   bid-to-watcher latency: -o watchers=100,1000 -o bids=20 -o interval=1000 (ms;
           0 = bids back to back, at the maximum rate)
           -o daphnes=1 (Daphne processes the watchers are spread over)
           -o clients=1 (watcher processes) -o port=0
  pages    requests/s through Daphne of home, browse, search, product and auction pages,
           anonymous and signed in, beside a bare view: --size 100000 (products, as browse)
           -o seconds=5 -o clients=8 -o port=0
  websocket paths and fanout need REDIS_URL (the Redis channel layer); all need PostgreSQL.

examples:
  make bench                                      everything, throwaway PostgreSQL + Redis
  python -m benchmarks bids -o bidders=1,8 -o seconds=2
  python -m benchmarks --size 2000 -o seconds=2 -o bidders=1,8 -o watchers=100 -o bids=5
                                                  a quick look at all four (a few minutes)
"""


class Command(BaseCommand):
    help = "Run the benchmarks in benchmarks/ (PostgreSQL only; see BENCHMARKS.md)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
        parser.add_argument("--size", type=int, help="data size (each benchmark's default)")
        parser.add_argument("--repeat", type=int, help="timed repetitions (default per module)")
        parser.add_argument(
            "-o",
            "--option",
            action="append",
            dest="extra",
            default=[],
            metavar="KEY=VALUE",
            help="extra keyword for the benchmarks' main() (integers are converted)",
        )
        parser.add_argument(
            "--list", action="store_true", dest="list_only", help="list the benchmarks and stop"
        )

    def handle(self, *args, names, size, repeat, extra, list_only, **options):
        available = benchmark_names()
        if list_only:
            self.stdout.write("\n".join(available) or "(no benchmarks yet)")
            return
        if connection.vendor != "postgresql":
            raise CommandError(
                "Benchmarks run on PostgreSQL only, and this database is "
                f"{connection.vendor}. Run `make bench` (it starts a throwaway PostgreSQL "
                "unless DATABASE_URL is set) or set DATABASE_URL=postgres://... to a scratch "
                "database: benchmarks add a lot of rows."
            )
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise CommandError(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {available}")
        chosen = names or available
        self._print_environment()
        if not chosen:
            self.stdout.write("No benchmark modules in benchmarks/ yet.")
            return
        given = {"size": size, "repeat": repeat, **parse_options(extra)}
        given = {key: value for key, value in given.items() if value is not None}
        given["verbosity"] = options["verbosity"]
        if options["verbosity"] < 2:
            # django-q2 logs every queued task (each outbid and closing notice): noise here.
            logging.getLogger("django-q").setLevel(logging.WARNING)
        for name in chosen:
            module = importlib.import_module(f"benchmarks.{name}")
            self.stdout.write(f"\n## {name}\n")
            started = time.perf_counter()
            module.main(self.stdout, **accepted(module.main, given))
            self.stdout.write(f"\n({name}: {time.perf_counter() - started:.1f} s in total)")

    def _print_environment(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        self.stdout.write("# MadeInPK benchmarks")
        self.stdout.write(
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()}; Django {django.get_version()}; "
            f"PostgreSQL {server}"
        )
