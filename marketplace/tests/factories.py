"""factory_boy factories. Reference data (provinces, cities, categories) comes from migrations."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from marketplace import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.pk")
    first_name = factory.Faker("first_name")
    role = models.User.Role.BUYER
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SellerFactory(UserFactory):
    role = models.User.Role.SELLER
    seller_profile = factory.RelatedFactory(
        "marketplace.tests.factories.SellerProfileFactory", factory_related_name="user"
    )


class SellerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SellerProfile

    user = factory.SubFactory(UserFactory, role=models.User.Role.SELLER)
    shop_name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    city = factory.LazyFunction(lambda: models.City.objects.get(name="Multan"))


def city(name: str = "Lahore") -> models.City:
    return models.City.objects.get(name=name)


def category(slug: str = "multani-blue-pottery") -> models.Category:
    return models.Category.objects.get(slug=slug)


class FixedPriceListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FixedPriceListing

    price = Decimal("2500.00")
    quantity = 3


class AuctionListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AuctionListing

    starting_price = Decimal("1000.00")
    current_price = factory.LazyAttribute(lambda a: a.starting_price)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    status = models.AuctionListing.Status.LIVE


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
