"""The services CI runs on are really used: PostgreSQL for the database, Redis for Channels."""

import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection


def test_channel_layer_round_trips_a_message():
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "ping", "text": "salaam"})
        return await layer.receive(channel)

    assert async_to_sync(round_trip)() == {"type": "ping", "text": "salaam"}


def test_channel_layer_is_redis_when_redis_url_is_set():
    if os.environ.get("CI"):
        assert settings.REDIS_URL, "CI must run with REDIS_URL set"
    if settings.REDIS_URL:
        layer = get_channel_layer()
        assert type(layer).__name__ == "RedisPubSubChannelLayer"
        assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] == (
            settings.REDIS_URL
        )
    else:
        assert type(get_channel_layer()).__name__ == "InMemoryChannelLayer"


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_is_postgresql_15_or_newer():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 150000
