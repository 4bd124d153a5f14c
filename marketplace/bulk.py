"""Writing many new rows of one model at once: `bulk_create`, or on PostgreSQL a COPY.

`bulk_create` on PostgreSQL sends each column as an array literal that psycopg builds and
escapes in Python, element by element (a JSON or text value with quotes costs a regular
expression call per quote): for the auction sweep's orders and notices that was a fifth of
the sweep. COPY formats its rows in psycopg's C code. It cannot return the new primary keys,
so they are taken from the table's sequence first: two statements instead of one, which only
pays from a few dozen rows (COPY_FROM).
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from django.db import connections, models, router
from django.db.models import Model

M = TypeVar("M", bound=Model)

# From this many rows a COPY (and the statement reserving their keys) costs less than one
# INSERT; fewer go through bulk_create, as one INSERT.
COPY_FROM = 50


def insert_all(objs: Sequence[M]) -> list[M]:
    """Insert new instances of one model (without primary keys) and set their primary keys,
    as `Model.objects.bulk_create(objs)` does (no signals, no `save()`, the same checks of
    related objects). Runs in the caller's transaction.
    """
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    meta = model._meta
    db = router.db_for_write(model)
    connection = connections[db]
    if (
        len(objs) < COPY_FROM
        or connection.vendor != "postgresql"
        or not meta.pk.auto_created
        or any(obj.pk is not None for obj in objs)
    ):
        return model._default_manager.bulk_create(objs)
    fields = [field for field in meta.concrete_fields if not field.generated]
    kept = [_kept_as_is(field) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        keys = sorted(key for (key,) in cursor.fetchall())
        try:
            for obj, key in zip(objs, keys, strict=True):
                obj._prepare_related_fields_for_save(operation_name="bulk_create")
                setattr(obj, meta.pk.attname, key)
            rows = [_row(obj, fields, kept, connection) for obj in objs]
            with connection.wrap_database_errors:
                with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        except BaseException:
            for obj in objs:  # not saved: as bulk_create leaves them
                setattr(obj, meta.pk.attname, None)
            raise
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db
    return objs


_INTEGER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
)


def _kept_as_is(field: models.Field) -> type | None:
    """The type of value `field` sends to PostgreSQL unchanged (so `get_db_prep_save`, which
    costs 2-10 us a value, most of a row's Python, can be skipped for it), or None.

    Only Django's own field classes, exactly (a subclass may convert), and only fields whose
    `pre_save` is reading the attribute (not auto_now).
    """
    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        return int if type(field.target_field) in _INTEGER_FIELDS else None
    if kind in (models.CharField, models.TextField):
        return str
    if kind in _INTEGER_FIELDS:
        return int
    if kind is models.DecimalField:
        return Decimal
    if kind is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        return datetime
    return None


def _row(obj: Model, fields: list[models.Field], kept: list[type | None], connection) -> list:
    """The values `bulk_create` would send for `obj`, in the order of `fields`."""
    row = []
    for field, kind in zip(fields, kept, strict=True):
        value = getattr(obj, field.attname)
        if kind is None or not (value is None or type(value) is kind):
            value = field.get_db_prep_save(field.pre_save(obj, True), connection)
        elif kind is Decimal and not value.is_finite():  # Django refuses NaN and infinities
            value = field.get_db_prep_save(value, connection)
        elif kind is datetime and value is not None and value.tzinfo is None:
            value = field.get_db_prep_save(value, connection)  # naive: Django's warning
        row.append(value)
    return row
