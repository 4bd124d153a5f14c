"""Benchmarks run by `manage.py bench` (`make bench`), on PostgreSQL only. Not tests.

Each module here is one benchmark and exposes

    def main(out, **options) -> None

`out` has `write(text)` (the command's stdout; one line per call). `options` holds the command
line options: `size` (data size, None for the module's default), `repeat` (timed repetitions,
None for the default) and `verbosity`; ignore the ones that do not apply. A module seeds what it
needs, measures, prints its figures as Markdown (ready to paste into BENCHMARKS.md), and may
leave its data behind (`make bench` runs on a throwaway database). Modules run in name order;
names starting with "_" are helpers, not benchmarks.
"""
