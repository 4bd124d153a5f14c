"""Small statements built once per process (issue 20).

On a signed-in page served from the shared copy, the ORM took longer to build each of the few
small personal queries (the navigation counts, the buyer's city, whether they bought or bid)
than the database took to run it. `first_row` builds a query once per process and database
for stand-in ids, keeps its SQL, and runs it with the real ids in their places; `first_object`
and `objects_by_ids` (a page's cards, issue 17) also keep how the rows become objects.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# Ids no row has, one per argument: only parameters equal to one of them are replaced.
STAND_INS = (987_654_321_987_661, 987_654_321_987_662)
STAND_IN_BASE = STAND_INS[0]
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
    """The first object of `build(*ids)`, a queryset of `model` (`select_related` and
    annotations allowed; no prefetches), or None: like `first_row`, the SQL is built once, and
    so is how its row becomes objects.

    Built per database connection (each thread has its own): what Django's `ModelIterable`
    works out on every query (the compiler's select list, `klass_info`, the related objects'
    populators) is kept and used as `ModelIterable` uses it. Those are Django internals:
    `test_prepared_statements` compares the objects with the ORM's; check it when upgrading.
    """
    plan = _object_plan(name, model, len(ids), lambda stand_ins: build(*stand_ins)[:1])
    found = plan.objects(dict(zip(plan.stand_ins, ids, strict=True)))
    return found[0] if found else None


# Id lists are padded to one of these lengths with ids no row has, so that a few statements
# (each prepared by PostgreSQL in its turn) serve every page size.
ID_LIST_SIZES = (8, 16, 24, 32, 48, 64, 96)


def objects_by_ids(
    name: str, model: type[Model], build: Callable[[list[int]], QuerySet], ids: list[int]
) -> list[Model] | None:
    """The objects of `build(ids)`, a queryset of `model` filtered on `ids` (`select_related`
    and annotations allowed; no prefetches), in the database's order; its SQL and row plan
    built once per connection and padded length of `ids` (as `first_object`). None when there
    are more ids than the longest list planned (the caller uses the ORM)."""
    ids = list(dict.fromkeys(ids))
    size = next((size for size in ID_LIST_SIZES if size >= len(ids)), None)
    if size is None:
        return None
    if not ids:
        return []
    plan = _object_plan(f"{name}:{size}", model, size, lambda stand_ins: build(list(stand_ins)))
    return plan.objects(dict(zip(plan.stand_ins, ids, strict=False)))


class _ObjectPlan:
    """A queryset's SQL, and how `ModelIterable` makes objects of its rows, worked out once."""

    def __init__(self, alias: str, stand_ins: tuple[int, ...], queryset: QuerySet) -> None:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        for stand_in in stand_ins:
            if stand_in not in params:  # an argument the SQL does not take as a parameter
                raise ValueError(f"{stand_in} is not among {params!r}")
        info = compiler.klass_info
        self.alias, self.stand_ins, self.sql, self.params = alias, stand_ins, sql, params
        self.compiler, self.model = compiler, info["model"]
        self.start, self.end = info["select_fields"][0], info["select_fields"][-1] + 1
        self.columns = [
            column[0].target.attname for column in compiler.select[self.start : self.end]
        ]
        self.populators = get_related_populators(info, compiler.select, alias)
        self.annotations = list(compiler.annotation_col_map.items())

    def objects(self, values: dict[int, int]) -> list[Model]:
        """The objects of the rows the SQL gives with stand-ins replaced by `values` (a stand-in
        left over stays: no row has it)."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, [values.get(param, param) for param in self.params])
            rows = cursor.fetchall()
        found = []
        for row in self.compiler.results_iter([rows]):
            obj = self.model.from_db(self.alias, self.columns, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for attname, position in self.annotations:
                setattr(obj, attname, row[position])
            found.append(obj)
        return found


def _object_plan(
    name: str, model: type[Model], count: int, build: Callable[[tuple[int, ...]], QuerySet]
) -> _ObjectPlan:
    """The plan kept under `name` on `model`'s database connection, made from `build(stand_ins)`
    (`count` ids no row has) the first time."""
    alias = router.db_for_read(model)
    plans = connections[alias].__dict__.setdefault("_marketplace_object_plans", {})
    plan = plans.get(name)
    if plan is None:
        stand_ins = tuple(STAND_IN_BASE + i for i in range(count))
        try:
            plan = plans[name] = _ObjectPlan(alias, stand_ins, build(stand_ins).using(alias))
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return plan
