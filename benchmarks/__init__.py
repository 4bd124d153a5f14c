"""Benchmarks run by `python -m benchmarks` (`make bench`), on PostgreSQL only. Not tests.

Each module here is one benchmark and exposes

    def main(out, **options) -> None

`out` has `write(text)` (the command's stdout; one line per call). `options` holds the command
line options that were given: `size` (data size), `repeat` (timed repetitions), any
`--option KEY=VALUE`, and always `verbosity`. A `main` without `**options` receives only the
keywords it names, so `main(out, *, size=100_000)` works too. A module seeds what it
needs, measures, prints its figures as Markdown (ready to paste into BENCHMARKS.md), and may
leave its data behind (`make bench` runs on a throwaway database). Modules run in name order;
names starting with "_" are helpers, not benchmarks.
"""
