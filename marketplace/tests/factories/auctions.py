"""Auction listings: live, started an hour ago, ending in three days."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from marketplace import models


class AuctionListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AuctionListing

    starting_price = Decimal("1000.00")
    current_price = factory.LazyAttribute(lambda a: a.starting_price)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    status = models.AuctionListing.Status.LIVE
