"""notify_many: many notices in one go, each in its reader's language, duplicates skipped."""

import pytest
from django.utils.translation import gettext_lazy

from marketplace.models import Notification, User
from marketplace.services.notifications import Notice, notify, notify_many
from marketplace.tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def notice(user, key: str, title="Notice") -> Notice:
    return Notice(user=user, kind=Notification.Kind.OUTBID, title=title, dedupe_key=key)


def test_a_duplicate_among_many_is_skipped_and_the_others_recorded(buyer, rival):
    earlier = notify(user=buyer, kind=Notification.Kind.OUTBID, title="Earlier", dedupe_key="b")

    created = notify_many([notice(rival, "a"), notice(buyer, "b"), notice(buyer, "c")])

    assert [row is not None for row in created] == [True, False, True]
    assert Notification.objects.count() == 3
    assert Notification.objects.get(user=buyer, dedupe_key="b") == earlier


def test_stand_in_readers_languages_are_read_in_one_query(django_assert_num_queries):
    readers = [UserFactory(language=code) for code in ("ur", "en", "ur")]
    stand_ins = [User(pk=reader.pk) for reader in readers]
    title = gettext_lazy("Notifications")

    with django_assert_num_queries(4):  # the languages; one INSERT in a savepoint
        notify_many([notice(user, f"k{n}", title) for n, user in enumerate(stand_ins)])

    titles = [Notification.objects.get(user=reader).title for reader in readers]
    assert titles[1] == "Notifications"
    assert titles[0] == titles[2] != "Notifications"
