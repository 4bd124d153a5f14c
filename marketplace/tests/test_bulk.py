"""bulk.insert_all: the rows bulk_create would write, with COPY on PostgreSQL from COPY_FROM rows."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy

from marketplace import bulk
from marketplace.models import Notification
from marketplace.tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

# What COPY's text format must escape (backslash, tab, newlines, its NULL marker), quotes,
# and text in both scripts.
AWKWARD = 'a\\b\tc\nd\re "q" \\N “ٹ” ؟'


def notices(user, count: int, *, prefix: str) -> list[Notification]:
    return [
        Notification(
            user=user,
            kind=Notification.Kind.AUCTION_UNSOLD,
            title=f"{AWKWARD} {n}",
            body="" if n % 2 else AWKWARD,
            url=f"/orders/{n}/",
            dedupe_key=f"{prefix}:{n}",
            message={"title": {"f": {"t": AWKWARD}, "p": {"n": str(n)}}, "body": None},
            created_at=timezone.now(),
        )
        for n in range(count)
    ]


def stored(rows: list[Notification]) -> list[tuple]:
    fields = ["user_id", "kind", "title", "body", "url", "message", "read_at", "emailed_at"]
    by_pk = {
        values[0]: values[1:]
        for values in Notification.objects.filter(pk__in=[row.pk for row in rows]).values_list(
            "pk", *fields
        )
    }
    return [(row.dedupe_key.split(":")[1], by_pk[row.pk]) for row in rows]


def test_rows_come_back_as_bulk_create_writes_them(monkeypatch):
    monkeypatch.setattr(bulk, "COPY_FROM", 2)  # COPY on PostgreSQL, bulk_create elsewhere
    user = UserFactory()
    copied = bulk.insert_all(notices(user, 5, prefix="copied"))
    created = Notification.objects.bulk_create(notices(user, 5, prefix="created"))

    assert all(row.pk and not row._state.adding for row in copied)
    assert len({row.pk for row in copied}) == 5
    assert [row.pk for row in copied] == sorted(row.pk for row in copied)
    assert stored(copied) == stored(created)
    assert Notification.objects.get(pk=copied[0].pk).title == f"{AWKWARD} 0"


@pytest.mark.postgres
def test_from_copy_from_rows_postgresql_gets_one_copy_and_one_key_read(monkeypatch):
    monkeypatch.setattr(bulk, "COPY_FROM", 3)
    user = UserFactory()
    with CaptureQueriesContext(connection) as few:
        bulk.insert_all(notices(user, 2, prefix="few"))
    with CaptureQueriesContext(connection) as many:
        bulk.insert_all(notices(user, 40, prefix="many"))

    assert [q["sql"].split()[0] for q in few] == ["INSERT"]
    assert [q["sql"].split()[0] for q in many] == ["SELECT", "COPY"]
    assert Notification.objects.filter(dedupe_key__startswith="many:").count() == 40


def test_a_duplicate_raises_integrity_error_and_leaves_the_rows_unsaved(monkeypatch):
    monkeypatch.setattr(bulk, "COPY_FROM", 2)
    user = UserFactory()
    bulk.insert_all(notices(user, 1, prefix="dup"))
    rows = notices(user, 3, prefix="dup")  # the first repeats the row above

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_all(rows)

    assert [row.pk for row in rows] == [None, None, None]
    assert Notification.objects.filter(dedupe_key__startswith="dup:").count() == 1


def test_values_django_converts_are_converted_as_bulk_create_converts_them(monkeypatch):
    """A lazy translation in a text column is sent as its text, a TextChoices member as its
    value, like bulk_create; plain values of Django's own fields are sent as they are."""
    monkeypatch.setattr(bulk, "COPY_FROM", 2)
    user = UserFactory()
    rows = notices(user, 3, prefix="lazy")
    rows[0].title = gettext_lazy("Auction won")
    rows[1].kind = Notification.Kind.AUCTION_SOLD

    bulk.insert_all(rows)

    saved = Notification.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    assert [(n.title.split(" ")[0], n.kind) for n in saved] == [
        ("Auction", "auction_unsold"),
        ("a\\b\tc\nd\re", "auction_sold"),
        ("a\\b\tc\nd\re", "auction_unsold"),
    ]
