"""Issue 13 (3): the listing forms start at the shop's city; the complaint form offers only
the sellers the user dealt with (and the shop a "Report" link names)."""

import pytest
from django.urls import reverse

from marketplace.models import City
from marketplace.services import messaging
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.factories.orders import listing_by, order_for


@pytest.mark.parametrize("url_name", ["listing_create", "auction_create"])
def test_a_new_listing_starts_at_the_shops_city(seller_client, seller, url_name):
    lahore = City.objects.get(name="Lahore")
    seller.seller_profile.city = lahore
    seller.seller_profile.save(update_fields=["city"])
    form = seller_client.get(reverse(url_name)).context["form"]
    assert form["city"].value() == lahore.pk
    assert (
        f'<option value="{lahore.pk}" selected>'
        in seller_client.get(reverse(url_name)).content.decode()
    )


def seller_options(client) -> set[str]:
    form = client.get(reverse("complaint_create")).context["form"]
    return {user.username for user in form.fields["seller"].queryset}


def test_the_complaint_form_lists_only_sellers_the_user_dealt_with(client, seller, buyer):
    bought_from = seller
    talked_to = SellerFactory(username="talha")
    stranger = SellerFactory(username="saad")
    order_for(buyer, listing_by(bought_from))
    messaging.start_conversation(user=buyer, product=listing_by(talked_to).product)
    client.force_login(buyer)
    assert seller_options(client) == {bought_from.username, talked_to.username}
    assert stranger.username not in seller_options(client)


def test_a_shops_report_link_names_its_seller_and_the_form_accepts_it(client, buyer):
    shop = SellerFactory(username="saad")
    client.force_login(buyer)
    form = client.get(reverse("complaint_create"), {"seller": shop.pk}).context["form"]
    assert list(form.fields["seller"].queryset) == [shop]
    response = client.post(
        reverse("complaint_create"),
        {
            "category": "other",
            "subject": "Fake photos",
            "description": "Stock photos.",
            "seller": shop.pk,
        },
    )
    assert response.status_code == 302
