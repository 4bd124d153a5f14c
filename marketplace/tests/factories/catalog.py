"""Products (fixed price by default, or an auction) and the reference rows they point at."""

from decimal import Decimal

import factory

from marketplace import models
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.auctions import AuctionListingFactory


def city(name: str = "Lahore") -> models.City:
    return models.City.objects.get(name=name)


def category(slug: str = "multani-blue-pottery") -> models.Category:
    return models.Category.objects.get(slug=slug)


class FixedPriceListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FixedPriceListing

    price = Decimal("2500.00")
    quantity = 3


class ProductFactory(factory.django.DjangoModelFactory):
    """A fixed-price product by default; pass auction=AuctionListingFactory() for an auction."""

    class Meta:
        model = models.Product

    seller = factory.SubFactory(SellerFactory)
    title = factory.Sequence(lambda n: f"Blue pottery vase {n}")
    description = "Hand-painted Multani blue pottery, glazed and fired in a kiln."
    category = factory.LazyFunction(category)
    city = factory.LazyFunction(city)
    fixed_price = factory.SubFactory(FixedPriceListingFactory)
    auction = None
    display_price = factory.LazyAttribute(
        lambda p: p.fixed_price.price if p.fixed_price else p.auction.current_price
    )


class AuctionProductFactory(ProductFactory):
    fixed_price = None
    auction = factory.SubFactory(AuctionListingFactory)
