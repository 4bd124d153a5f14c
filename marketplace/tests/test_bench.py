import os
import subprocess
import sys
import types

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks import _runner as bench
from madeinpk.settings import BASE_DIR


@pytest.fixture
def fake_benchmark(monkeypatch):
    calls = []
    module = types.ModuleType("benchmarks.fake")
    module.main = lambda out, **options: calls.append(options) or out.write("| fake | 1 ms |")
    monkeypatch.setitem(__import__("sys").modules, "benchmarks.fake", module)
    monkeypatch.setattr(bench, "benchmark_names", lambda: ["fake"])
    return calls


@pytest.mark.django_db
def test_bench_refuses_to_run_on_sqlite(monkeypatch, fake_benchmark):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command(bench.Command())
    assert fake_benchmark == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_bench_runs_each_benchmark_module_with_the_options(fake_benchmark, capsys):
    call_command(bench.Command(), "--size", "1000")

    assert fake_benchmark == [{"size": 1000, "verbosity": 1}]
    assert "| fake | 1 ms |" in capsys.readouterr().out


@pytest.mark.django_db
def test_bench_refuses_an_unknown_benchmark_name(fake_benchmark, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "postgresql")

    with pytest.raises(CommandError, match="Unknown benchmark"):
        call_command(bench.Command(), "nonsense")


@pytest.mark.postgres
@pytest.mark.django_db
def test_bench_passes_a_module_only_the_keywords_its_main_names(monkeypatch, capsys):
    calls = []
    module = types.ModuleType("benchmarks.narrow")

    def main(out, *, products=10):
        calls.append(products)

    module.main = main
    monkeypatch.setitem(__import__("sys").modules, "benchmarks.narrow", module)
    monkeypatch.setattr(bench, "benchmark_names", lambda: ["narrow"])

    call_command(bench.Command(), "--size", "5", "--option", "products=2000")

    assert calls == [2000]


def test_python_m_benchmarks_lists_the_benchmark_modules():
    listed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"],
        cwd=BASE_DIR,
        # Listing needs no secret, but the production-key guard refuses DEBUG off with the
        # development key, as it should.
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()

    assert listed == ["bids", "browse", "closing", "fanout", "pages"]
