"""Small statements built once per process (issue 20).

On a signed-in page served from the shared copy, the ORM took longer to build each of the few
small personal queries (the navigation counts, the buyer's city, whether they bought or bid)
than the database took to run it. `first_row` builds a query once per process and database
for stand-in ids, keeps its SQL, and runs it with the real ids in their places.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# Ids no row has, one per argument: only parameters equal to one of them are replaced.
STAND_INS = (987_654_321_987_661, 987_654_321_987_662)
_compiled: dict[tuple[str, str, str], tuple[str, tuple]] = {}


def first_row(
    name: str, model: type[Model], build: Callable[..., QuerySet], *ids: int
) -> tuple | None:
    """The first row of `build(*ids)`, a values_list query of `model` whose SQL is built once
    (so `build` must not depend on anything but its ids)."""
    stand_ins = STAND_INS[: len(ids)]
    alias = router.db_for_read(model)
    connection = connections[alias]
    key = (name, alias, connection.vendor)
    compiled = _compiled.get(key)
    if compiled is None:
        sql, params = build(*stand_ins).using(alias)[:1].query.sql_with_params()
        for stand_in in stand_ins:
            if stand_in not in params:  # an argument the SQL does not take as a parameter
                raise ValueError(f"{name}: {stand_in} is not among {params!r}")
        compiled = _compiled[key] = (sql, params)
    sql, params = compiled
    values = dict(zip(stand_ins, ids, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, [values.get(param, param) for param in params])
        return cursor.fetchone()


@contextmanager
def planned_for_their_values(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Statements run inside are never prepared: PostgreSQL plans each for its own values.

    With `DB_PREPARED_STATEMENTS` (on by default) a statement run five times on a connection is
    prepared, and PostgreSQL may then settle on one generic plan for all its values. For a
    ranked full-text search that plan cannot know how common the words are (measured at
    100,000 products: p95 263 ms against 93 ms planned each time); a search costs more to run
    than to plan anyway. Does nothing when statements are not prepared (SQLite, or the setting off).
    """
    connection = connections[using]
    if not connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold"):
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = before


def first_object(
    name: str, model: type[Model], build: Callable[..., QuerySet], *ids: int
) -> Model | None:
    """The first object of `build(*ids)`, a queryset of `model` (`select_related` allowed; no
    annotations or prefetches), or None: like `first_row`, the SQL is built once, and so is
    how its row becomes objects.

    Built per database connection (each thread has its own): what Django's `ModelIterable`
    works out on every query (the compiler's select list, `klass_info`, the related objects'
    populators) is kept and used as `ModelIterable` uses it. Those are Django internals:
    `test_prepared_statements` compares the objects with the ORM's; check it when upgrading.
    """
    stand_ins = STAND_INS[: len(ids)]
    alias = router.db_for_read(model)
    connection = connections[alias]
    plans = connection.__dict__.setdefault("_marketplace_object_plans", {})
    plan = plans.get(name)
    if plan is None:
        compiler = build(*stand_ins).using(alias)[:1].query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        for stand_in in stand_ins:
            if stand_in not in params:
                raise ValueError(f"{name}: {stand_in} is not among {params!r}")
        if compiler.annotation_col_map:
            raise ValueError(f"{name}: annotations are not supported")
        info = compiler.klass_info
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        columns = [column[0].target.attname for column in compiler.select[start:end]]
        populators = get_related_populators(info, compiler.select, alias)
        plan = plans[name] = (sql, params, compiler, info["model"], start, end, columns, populators)
    sql, params, compiler, model_class, start, end, columns, populators = plan
    values = dict(zip(stand_ins, ids, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, [values.get(param, param) for param in params])
        row = cursor.fetchone()
    if row is None:
        return None
    row = next(iter(compiler.results_iter([[row]])))
    obj = model_class.from_db(alias, columns, row[start:end])
    for populator in populators:
        populator.populate(row, obj)
    return obj
