import json
import types
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import UploadedFile
from django.core.management import call_command
from PIL import Image

from marketplace.demo.payouts import onboard_demo_sellers
from marketplace.management.commands.load_demo import DEMO_PASSWORD
from marketplace.models import Category, City, ConnectedAccount, SellerProfile, User

DATA = Path(__file__).resolve().parents[1] / "data"
LISTINGS = json.loads((DATA / "demo_listings.json").read_text())


@pytest.fixture
def catalogue_calls(monkeypatch):
    """Stand in for marketplace.services.listings and record what load_demo passes to it."""
    calls = []
    fake = types.ModuleType("marketplace.services.listings")
    fake.create_fixed_price_listing = lambda **kwargs: calls.append(kwargs)
    monkeypatch.setitem(__import__("sys").modules, "marketplace.services.listings", fake)
    return calls


@pytest.mark.django_db
def test_load_demo_twice_leaves_one_of_each_demo_user(catalogue_calls):
    call_command("load_demo", "--force", stdout=None)
    call_command("load_demo", "--force", stdout=None)

    names = ["amina", "sana", "imran", "bilal", "admin"]
    assert User.objects.filter(username__in=names).count() == 5
    assert SellerProfile.objects.filter(user__username__in=names).count() == 3


@pytest.mark.django_db
def test_printed_demo_logins_work(catalogue_calls):
    call_command("load_demo", "--force")

    assert authenticate(username="amina", password=DEMO_PASSWORD).is_seller
    assert authenticate(username="bilal", password=DEMO_PASSWORD).is_buyer
    assert authenticate(username="admin", password=DEMO_PASSWORD).is_staff


@pytest.mark.django_db
def test_one_demo_shop_is_verified(catalogue_calls):
    call_command("load_demo", "--force")

    assert list(SellerProfile.objects.filter(is_verified=True).values_list("slug", flat=True)) == [
        "amina-blue-pottery"
    ]


@pytest.mark.django_db
def test_demo_shops_charge_delivery_and_two_accept_cash_on_delivery(catalogue_calls, buyer):
    from marketplace.delivery import fee_to
    from marketplace.services import cod_rules

    call_command("load_demo", "--force")
    call_command("load_demo", "--force")  # the same settings, no second rate

    shops = {
        p.user.username: p
        for p in SellerProfile.objects.filter(user__username__in=["amina", "sana", "imran"])
    }
    lahore, karachi = City.objects.get(name="Lahore"), City.objects.get(name="Karachi")
    fees = {
        name: (fee_to(p, lahore.province_id), fee_to(p, karachi.province_id))
        for name, p in shops.items()
    }
    assert fees == {
        "amina": (Decimal("200.00"), Decimal("350.00")),
        "sana": (Decimal("250.00"), Decimal("250.00")),
        "imran": (Decimal("300.00"), Decimal("150.00")),
    }
    refusals = {
        name: cod_rules.cod_refusal(buyer=buyer, profiles=[p], total=Decimal("3000"))
        for name, p in shops.items()
    }
    assert refusals["amina"] is None and refusals["sana"] is None
    assert refusals["imran"].code == "cod_not_accepted"


@pytest.mark.django_db
def test_load_demo_lists_every_demo_product_through_the_catalogue_service(catalogue_calls):
    call_command("load_demo", "--force")

    assert [call["title"] for call in catalogue_calls] == [item["title"] for item in LISTINGS]
    first = catalogue_calls[0]
    assert first["seller"].username == "amina"
    assert isinstance(first["category"], Category)
    assert isinstance(first["city"], City)
    assert isinstance(first["images"][0], UploadedFile)


@pytest.mark.django_db
def test_load_demo_without_the_catalogue_still_creates_the_users(capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "marketplace.services.listings", None)

    call_command("load_demo", "--force")

    assert "catalogue not available yet" in capsys.readouterr().out
    assert User.objects.filter(username="bilal").exists()


@pytest.mark.django_db
def test_demo_listings_refer_to_existing_categories_and_cities():
    for item in LISTINGS:
        assert Category.objects.filter(slug=item["category"]).exists(), item["category"]
        assert City.objects.filter(name=item["city"]).exists(), item["city"]


@pytest.mark.parametrize("item", LISTINGS, ids=[item["image"] for item in LISTINGS])
def test_demo_images_are_small_square_jpegs(item):
    path = DATA / "demo_images" / item["image"]

    with Image.open(path) as image:
        assert (image.format, image.size) == ("JPEG", (800, 800))
    assert path.stat().st_size < 120_000


@pytest.mark.django_db
def test_the_demo_sellers_are_onboarded_on_the_emulator_once(emulator, seller, buyer):
    assert onboard_demo_sellers([seller.username, buyer.username]) == [seller.username]
    assert ConnectedAccount.objects.get(user=seller).ready
    assert not ConnectedAccount.objects.filter(user=buyer).exists()
    assert onboard_demo_sellers([seller.username]) == []


@pytest.mark.django_db
def test_demo_onboarding_does_nothing_against_real_stripe(seller, settings):
    settings.STRIPE_API_BASE = ""

    assert onboard_demo_sellers([seller.username]) == []


@pytest.mark.django_db
def test_load_demo_gives_a_seller_money_in_every_state_and_a_return_waiting(client):
    import io

    from marketplace.models import Payout, ReturnRequest
    from marketplace.services import ledger, reconciliation

    call_command("load_demo", "--force", stdout=io.StringIO())
    call_command("load_demo", "--force", stdout=io.StringIO())  # adds nothing

    imran = User.objects.get(username="imran")
    balances = ledger.balances(imran)
    # Imran's first five listings, each with his Rs 300 delivery outside Sindh, less the 2% fee
    # on the items: 2,200 paid, 6,500 in the return window and 3,500 with a return waiting
    # (pending); 3,800 released; 5,200 paid out.
    assert balances.pending == Decimal("12856.00")
    assert balances.available == Decimal("4024.00")
    assert balances.paid_out == Decimal("5396.00")
    assert balances.in_transfer == Decimal("0.00")
    assert Payout.objects.get(seller=imran).status == Payout.Status.PAID
    assert ReturnRequest.objects.open().get().order.seller == imran
    assert reconciliation.reconcile() == []
    client.force_login(imran)
    statement = client.get("/sell/statement/").content.decode()
    assert "return is open" in statement and "Payout" in statement
