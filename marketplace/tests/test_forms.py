import pytest

from marketplace.forms.addresses import AddressForm
from marketplace.models import City


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
