"""Users and sellers (with a shop profile)."""

from datetime import timedelta

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
    """A seller who can be paid (a bank account); `payouts=False` for one who cannot yet."""

    role = models.User.Role.SELLER
    seller_profile = factory.RelatedFactory(
        "marketplace.tests.factories.accounts.SellerProfileFactory", factory_related_name="user"
    )

    @factory.post_generation
    def payouts(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            # Written directly: the payout-method service's notice would show in tests of
            # notifications that have nothing to do with payouts.
            set_at = timezone.now() - timedelta(days=3)
            models.PayoutMethod.objects.create(
                seller=obj,
                kind=models.PayoutMethod.Kind.BANK,
                iban="PK36SCBL0000001123456702",
                account_title=obj.first_name or obj.username,
                created_at=set_at,
                hold_until=set_at,
            )


class SellerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SellerProfile

    user = factory.SubFactory(UserFactory, role=models.User.Role.SELLER)
    shop_name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    city = factory.LazyFunction(lambda: models.City.objects.get(name="Multan"))


def lose_payouts(seller: models.User) -> None:
    """The seller's way to be paid goes away (replaced, as a change would): they stop being
    payable after orders were placed."""
    models.PayoutMethod.objects.current().filter(seller=seller).update(replaced_at=timezone.now())
