"""Users and sellers (with a shop profile)."""

import factory

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
        "marketplace.tests.factories.accounts.SellerProfileFactory", factory_related_name="user"
    )


class SellerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SellerProfile

    user = factory.SubFactory(UserFactory, role=models.User.Role.SELLER)
    shop_name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    city = factory.LazyFunction(lambda: models.City.objects.get(name="Multan"))
