import types

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from marketplace.management.commands import bench


@pytest.fixture
def fake_benchmark(monkeypatch):
    calls = []
    module = types.ModuleType("marketplace.benchmarks.fake")
    module.main = lambda out, **options: calls.append(options) or out.write("| fake | 1 ms |")
    monkeypatch.setitem(__import__("sys").modules, "marketplace.benchmarks.fake", module)
    monkeypatch.setattr(bench, "benchmark_names", lambda: ["fake"])
    return calls


@pytest.mark.django_db
def test_bench_refuses_to_run_on_sqlite(monkeypatch, fake_benchmark):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("bench")
    assert fake_benchmark == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_bench_runs_each_benchmark_module_with_the_options(fake_benchmark, capsys):
    call_command("bench", "--size", "1000")

    assert fake_benchmark == [{"size": 1000, "repeat": None, "verbosity": 1}]
    assert "| fake | 1 ms |" in capsys.readouterr().out


@pytest.mark.django_db
def test_bench_refuses_an_unknown_benchmark_name(fake_benchmark, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "postgresql")

    with pytest.raises(CommandError, match="Unknown benchmark"):
        call_command("bench", "nonsense")
