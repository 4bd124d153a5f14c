# ruff: noqa: RUF001, RUF003  (look-alike letters are the subject of these tests)
"""Issue 12, item 10: a shop name cannot imitate another's (look-alike letters, invisible
characters, punctuation and case variants)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from marketplace.confusables import shop_name_skeleton
from marketplace.exceptions import ShopNameTaken
from marketplace.models import SellerProfile
from marketplace.services.accounts import register_user, save_seller_profile
from marketplace.tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

ORIGINAL = "Amina Blue Pottery"
IMITATIONS = {
    "cyrillic-a-and-o": "Аmina Blue Pоttery",  # Cyrillic А and о
    "greek-capitals": "ΑΜΙΝΑ ΒLUE ΡΟΤΤΕRY",
    "zero-width-space": "Amina\u200bBlue Pottery",
    "zero-width-joiner": "Ami\u200dna Blue Pottery",
    "bidi-override": "\u202eAmina Blue Pottery\u202c",
    "soft-hyphen": "Ami\u00adna Blue Pottery",
    "punctuation": "Amina-Blue.Pottery!",
    "no-spaces-and-case": "AMINABLUEPOTTERY",
    "fullwidth": "Ａｍｉｎａ Blue Pottery",
    "accent": "Amína Blue Pottery",
    "digit-for-letter": "Am1na Blue P0ttery",
    "rn-for-m": "Arnina Blue Pottery",
}


@pytest.mark.parametrize("name", IMITATIONS.values(), ids=IMITATIONS.keys())
def test_look_alike_names_share_a_skeleton(name):
    assert shop_name_skeleton(name) == shop_name_skeleton(ORIGINAL)


@pytest.mark.parametrize(
    "other", ["Amina Blue Ceramics", "Sana Phulkari House", "امینہ بلیو پوٹری", "Amina Blue"]
)
def test_different_names_keep_different_skeletons(other):
    assert shop_name_skeleton(other) != shop_name_skeleton(ORIGINAL)


def test_urdu_names_ignore_diacritics_and_spacing():
    assert shop_name_skeleton("ثَنا  پھلکاری۔") == shop_name_skeleton("ثنا پھلکاری")


@pytest.fixture
def original():
    return save_seller_profile(user=UserFactory(), shop_name=ORIGINAL)


@pytest.mark.parametrize("name", IMITATIONS.values(), ids=IMITATIONS.keys())
def test_opening_a_shop_that_imitates_another_is_refused(original, name):
    with pytest.raises(ShopNameTaken):
        save_seller_profile(user=UserFactory(), shop_name=name)
    assert SellerProfile.objects.count() == 1


def test_registering_as_a_seller_with_an_imitating_name_creates_no_account(original):
    with pytest.raises(ShopNameTaken):
        register_user(
            username="copycat",
            email="copycat@example.com",
            password="a long Passw0rd here",
            first_name="Copy",
            role="seller",
            shop_name=IMITATIONS["cyrillic-a-and-o"],
        )
    assert not SellerProfile.objects.filter(user__username="copycat").exists()


def test_a_shop_may_restyle_its_own_name(original):
    profile = save_seller_profile(user=original.user, shop_name="AMINA BLUE-POTTERY")
    assert profile.shop_name == "AMINA BLUE-POTTERY"


def test_the_database_refuses_a_look_alike_even_past_the_service(original):
    with pytest.raises(IntegrityError), transaction.atomic():
        SellerProfile.objects.create(
            user=UserFactory(), shop_name=IMITATIONS["zero-width-space"], slug="copy"
        )


def test_the_shop_form_shows_the_name_is_taken(client, original):
    client.force_login(UserFactory())
    response = client.post(
        reverse("seller_profile_edit"), {"shop_name": IMITATIONS["greek-capitals"]}
    )
    assert response.status_code == 200
    assert "already exists" in response.text
    assert SellerProfile.objects.count() == 1
