"""Address book: scoping to the owner, exactly one default, the city options endpoint, the
address form and Pakistani mobile numbers."""

import os
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.urls import reverse

from marketplace.forms.addresses import AddressForm
from marketplace.models import Address, City, Province
from marketplace.services.addresses import save_address, set_default_address
from marketplace.tests.factories.accounts import UserFactory
from marketplace.validators import normalize_pk_mobile


def make_address(user, *, label: str = "Home", is_default: bool = False, city: str = "Lahore"):
    """An address saved through the service, as the views do."""
    address = Address(
        label=label,
        full_name=user.get_full_name() or user.username,
        phone="+923001234567",
        line1="12 Mall Road",
        city=City.objects.get(name=city),
        is_default=is_default,
    )
    return save_address(user=user, address=address)


def address_data(**overrides) -> dict:
    data = {
        "label": "Home",
        "full_name": "Bilal Ahmed",
        "phone": "0300-1234567",
        "line1": "12 Mall Road",
        "line2": "",
        "city": City.objects.get(name="Lahore").pk,
        "postal_code": "54000",
    }
    data.update(overrides)
    return data


def defaults(user) -> list[str]:
    return list(Address.objects.filter(user=user, is_default=True).values_list("label", flat=True))


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("address_list", {}),
        ("address_create", {}),
        ("address_edit", {"pk": 1}),
        ("address_delete", {"pk": 1}),
    ],
)
def test_address_pages_require_log_in(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_editing_another_users_address_is_a_404(buyer_client, outsider):
    theirs = make_address(outsider)

    assert buyer_client.get(reverse("address_edit", args=[theirs.pk])).status_code == 404
    response = buyer_client.post(reverse("address_edit", args=[theirs.pk]), address_data())
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.full_name == "Omar"


@pytest.mark.django_db
def test_deleting_another_users_address_is_a_404(buyer_client, outsider):
    theirs = make_address(outsider)

    response = buyer_client.post(reverse("address_delete", args=[theirs.pk]))

    assert response.status_code == 404
    assert Address.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_making_another_users_address_default_is_a_404(buyer_client, outsider):
    make_address(outsider, label="Home")
    theirs = make_address(outsider, label="Shop")

    response = buyer_client.post(reverse("address_make_default", args=[theirs.pk]))

    assert response.status_code == 404
    assert defaults(outsider) == ["Home"]


@pytest.mark.django_db
@pytest.mark.parametrize("pk", [999_999, 2**63 - 1])
def test_an_address_that_does_not_exist_is_a_404(buyer_client, pk):
    assert buyer_client.get(reverse("address_edit", args=[pk])).status_code == 404
    assert buyer_client.post(reverse("address_delete", args=[pk])).status_code == 404


@pytest.mark.django_db
def test_the_list_shows_only_the_users_own_addresses(buyer_client, buyer, outsider):
    make_address(buyer, label="Bilal home")
    make_address(outsider, label="Omar home")

    response = buyer_client.get(reverse("address_list"))

    assert "Bilal home" in response.text
    assert "Omar home" not in response.text


# --- Create and edit --------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_an_address_stores_a_normalised_phone(buyer_client, buyer):
    response = buyer_client.post(reverse("address_create"), address_data())

    assert response.url == reverse("address_list")
    assert Address.objects.get(user=buyer).phone == "+923001234567"


@pytest.mark.django_db
def test_creating_an_address_returns_to_a_safe_next(buyer_client):
    response = buyer_client.post(reverse("address_create"), address_data(next="/checkout/"))

    assert response.url == "/checkout/"


@pytest.mark.django_db
def test_the_new_address_form_is_prefilled_from_the_account(buyer_client, buyer):
    buyer.phone = "+923331112222"
    buyer.save()

    form = buyer_client.get(reverse("address_create")).context["form"]

    assert form.initial["phone"] == "+923331112222"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("city", "not-a-city", "Select a valid choice"),
        ("city", "999999", "Select a valid choice"),
        ("phone", "12345", "Enter a Pakistani mobile number"),
        ("postal_code", "54A00", "five digits"),
        ("full_name", "", "This field is required"),
    ],
)
def test_bad_address_input_is_shown_in_place(buyer_client, buyer, field, value, message):
    response = buyer_client.post(reverse("address_create"), address_data(**{field: value}))

    assert response.status_code == 200
    assert message in response.text
    assert not Address.objects.filter(user=buyer).exists()


@pytest.mark.django_db
def test_a_refused_edit_keeps_the_saved_address(buyer_client, buyer):
    address = make_address(buyer)

    buyer_client.post(reverse("address_edit", args=[address.pk]), address_data(phone="nope"))

    address.refresh_from_db()
    assert address.phone == "+923001234567"


@pytest.mark.django_db
def test_editing_changes_the_address(buyer_client, buyer):
    address = make_address(buyer)

    buyer_client.post(
        reverse("address_edit", args=[address.pk]),
        address_data(line1="7 Jail Road", city=City.objects.get(name="Multan").pk),
    )

    address.refresh_from_db()
    assert (address.line1, address.city.name) == ("7 Jail Road", "Multan")


# --- Exactly one default ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_address_becomes_the_default(buyer_client, buyer):
    buyer_client.post(reverse("address_create"), address_data())

    assert defaults(buyer) == ["Home"]


@pytest.mark.django_db
def test_a_second_address_is_not_the_default_unless_asked(buyer):
    make_address(buyer, label="Home")
    make_address(buyer, label="Shop")

    assert defaults(buyer) == ["Home"]


@pytest.mark.django_db
def test_ticking_default_on_a_new_address_moves_the_default(buyer_client, buyer):
    make_address(buyer, label="Home")

    buyer_client.post(reverse("address_create"), address_data(label="Shop", is_default="on"))

    assert defaults(buyer) == ["Shop"]


@pytest.mark.django_db
def test_make_default_moves_the_default(buyer_client, buyer):
    make_address(buyer, label="Home")
    shop = make_address(buyer, label="Shop")

    response = buyer_client.post(reverse("address_make_default", args=[shop.pk]))

    assert response.url == reverse("address_list")
    assert defaults(buyer) == ["Shop"]


@pytest.mark.django_db
def test_make_default_refuses_get(buyer_client, buyer):
    make_address(buyer, label="Home")
    shop = make_address(buyer, label="Shop")

    assert buyer_client.get(reverse("address_make_default", args=[shop.pk])).status_code == 405
    assert defaults(buyer) == ["Home"]


@pytest.mark.django_db
def test_the_default_cannot_be_unticked_away(buyer_client, buyer):
    home = make_address(buyer, label="Home")
    make_address(buyer, label="Shop")

    # The checkbox is disabled on the default; a forged POST without it changes nothing.
    buyer_client.post(reverse("address_edit", args=[home.pk]), address_data(label="Home"))

    assert defaults(buyer) == ["Home"]


@pytest.mark.django_db
def test_saving_keeps_one_default_even_if_none_is_asked(buyer):
    home = make_address(buyer, label="Home")
    home.is_default = False

    save_address(user=buyer, address=home)

    assert defaults(buyer) == ["Home"]


@pytest.mark.django_db
def test_deleting_the_default_promotes_the_newest_other(buyer_client, buyer):
    home = make_address(buyer, label="Home")
    make_address(buyer, label="Shop")
    make_address(buyer, label="Office")

    buyer_client.post(reverse("address_delete", args=[home.pk]))

    assert defaults(buyer) == ["Office"]


@pytest.mark.django_db
def test_deleting_the_last_address_leaves_an_empty_book(buyer_client, buyer):
    home = make_address(buyer)

    response = buyer_client.post(reverse("address_delete", args=[home.pk]))

    assert response.url == reverse("address_list")
    assert not Address.objects.filter(user=buyer).exists()


@pytest.mark.django_db
def test_delete_by_get_only_asks(buyer_client, buyer):
    home = make_address(buyer)

    response = buyer_client.get(reverse("address_delete", args=[home.pk]))

    assert response.status_code == 200
    assert "Delete this address?" in response.text
    assert Address.objects.filter(pk=home.pk).exists()


@pytest.mark.django_db
def test_another_users_default_is_untouched_by_my_changes(buyer, outsider):
    make_address(outsider, label="Omar home")
    make_address(buyer, label="Home")
    shop = make_address(buyer, label="Shop")

    set_default_address(user=buyer, address_id=shop.pk)

    assert defaults(outsider) == ["Omar home"]


# --- City options (HTMX) ----------------------------------------------------------------------


@pytest.mark.django_db
def test_city_options_lists_the_cities_of_one_province(client):
    sindh = Province.objects.get(name="Sindh")

    response = client.get(reverse("city_options"), {"province": sindh.pk})

    assert response.status_code == 200
    assert "Karachi" in response.text
    assert "Lahore" not in response.text


@pytest.mark.django_db
def test_city_options_marks_the_chosen_city(client):
    karachi = City.objects.get(name="Karachi")

    response = client.get(
        reverse("city_options"), {"province": karachi.province_id, "city": karachi.pk}
    )

    assert f'value="{karachi.pk}" selected' in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("province", ["", "abc", "²", "-1", "9" * 40, "999999"])
def test_city_options_with_a_bad_province_offers_only_the_placeholder(client, province):
    response = client.get(reverse("city_options"), {"province": province})

    assert response.status_code == 200
    assert response.text.count("<option") == 1


# --- PostgreSQL: concurrent changes ----------------------------------------------------------


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("This test needs PostgreSQL: set DATABASE_URL.")
        pytest.skip("needs PostgreSQL (runs in CI)")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_default_changes_leave_exactly_one_default():
    _require_postgres()
    user = UserFactory(username="tabs")
    addresses = [make_address(user, label=f"A{n}") for n in range(6)]
    barrier = threading.Barrier(len(addresses))
    errors: list[BaseException] = []

    def make_default(address_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            set_default_address(user=user, address_id=address_id)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=make_default, args=(a.pk,)) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Address.objects.filter(user=user, is_default=True).count() == 1


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("0300-1234567", "+923001234567"),
        ("03001234567", "+923001234567"),
        ("+923001234567", "+923001234567"),
        ("+92 300 1234567", "+923001234567"),
    ],
)
def test_pakistani_mobile_numbers_are_normalized(raw, normalized):
    assert normalize_pk_mobile(raw) == normalized


@pytest.mark.parametrize("raw", ["", "12345", "0200-1234567", "+9230012345678", "+44 7700 900123"])
def test_non_pakistani_mobile_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_pk_mobile(raw)


@pytest.mark.django_db
def test_address_form_normalizes_the_mobile_number():
    form = AddressForm(
        data={
            "full_name": "Bilal Ahmed",
            "phone": "0300-1234567",
            "line1": "12 Mall Road",
            "city": City.objects.get(name="Lahore").pk,
            "postal_code": "54000",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == "+923001234567"


@pytest.mark.django_db
def test_address_form_explains_a_bad_postal_code():
    form = AddressForm(
        data={
            "full_name": "Bilal Ahmed",
            "phone": "0300-1234567",
            "line1": "12 Mall Road",
            "city": City.objects.get(name="Lahore").pk,
            "postal_code": "5400",
        }
    )
    assert not form.is_valid()
    assert "five digits" in str(form.errors["postal_code"])


@pytest.mark.django_db
def test_city_choices_are_grouped_by_province():
    choices = dict(AddressForm().fields["city"].choices)
    assert "Punjab" in choices
    assert any(name == "Multan" for _pk, name in choices["Punjab"])
