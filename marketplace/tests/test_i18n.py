# ruff: noqa: RUF001, RUF003 - Urdu text and typographic punctuation are what these tests check
"""Urdu and English: the catalogue is complete and current, pages switch language and direction.

The catalogue tests guard later work: a new user-facing string that is not marked for
translation, or marked but not translated into Urdu, fails the suite. README "Languages" says
how to fix such a failure (`make messages`, translate, `make messages` again).
"""

import json
import re
import shutil
from pathlib import Path

import polib
import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.urls import reverse
from django.utils import translation

from marketplace import realtime
from marketplace.i18n_strings import reference_names
from marketplace.models import Notification
from marketplace.routing import websocket_urlpatterns
from marketplace.services.closing import close_auction
from marketplace.tests.auction_helpers import bid, logged_in_session, make_auction
from marketplace.tests.conftest import fail_in_ci_else_skip
from marketplace.tests.factories.catalog import city

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "ur" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
# The same extraction as `make messages` (MAKEMESSAGES_OPTIONS in the Makefile).
MAKEMESSAGES_IGNORE = [
    ".venv",
    "stripe_emulator",
    "jazzcash_emulator",
    "courier_emulator",
    "emulator_base",
    "benchmarks",
    "staticfiles",
    "static",
    "node_modules",
    "test-artifacts",
    "marketplace/tests",
    "docs",
    "scripts",
]
URDU_LETTER = re.compile(r"[\u0600-\u06ff]")


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _translations(entries) -> dict[tuple[str, str, str], tuple[str, ...]]:
    result = {}
    for entry in entries:
        if not entry.msgid:
            continue  # the header
        if entry.msgid_plural:
            plural = entry.msgstr_plural
            result[_key(entry)] = tuple(plural[index] for index in sorted(plural))
        else:
            result[_key(entry)] = (entry.msgstr,)
    return result


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


# --- The catalogue --------------------------------------------------------------------------


def test_every_msgid_has_an_urdu_translation(catalogue):
    missing = [
        entry.msgid
        for entry in catalogue
        if not entry.translated() or (entry.msgid_plural and not all(entry.msgstr_plural.values()))
    ]

    assert missing == [], f"{len(missing)} msgids lack an Urdu translation: {missing[:10]}"


def test_no_translation_is_fuzzy(catalogue):
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]

    assert fuzzy == [], f"review these and remove the fuzzy flag: {fuzzy[:10]}"


def test_catalogue_declares_urdu_plural_forms(catalogue):
    assert catalogue.metadata["Language"] == "ur"
    assert catalogue.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_translations_keep_their_placeholders(catalogue):
    placeholder = re.compile(r"%\([^)]+\)[sd]|%[sd]|%%")
    broken = []
    for entry in catalogue:
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        targets = (
            [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
            if entry.msgid_plural
            else [entry.msgstr]
        )
        for source, target in zip(sources, targets, strict=False):
            if sorted(placeholder.findall(source)) != sorted(placeholder.findall(target)):
                broken.append(entry.msgid)

    assert broken == []


def test_translations_are_written_in_urdu_script(catalogue):
    # Placeholders, brand names and formats such as "%(quantity)s × %(price)s" may stay as
    # they are; anything with English words must be translated.
    english = [
        entry.msgid
        for entry in catalogue
        if entry.msgstr
        and not URDU_LETTER.search(entry.msgstr)
        and re.search(r"[A-Za-z]{3,}", re.sub(r"%\([^)]+\)[sd]|MadeInPK", "", entry.msgstr))
    ]

    assert english == []


def test_catalogue_is_up_to_date_with_the_source(tmp_path, monkeypatch, settings, catalogue):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        fail_in_ci_else_skip("GNU gettext (xgettext, msgmerge) is not installed")
    # makemessages writes next to the sources it reads: extract from a copy of them, so the
    # committed catalogue is never touched.
    for folder in ("madeinpk", "marketplace", "templates"):
        shutil.copytree(
            BASE_DIR / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__", "data", "*.png", "*.jpg"),
        )
    (tmp_path / "locale").mkdir()
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command(
        "makemessages",
        locale=["ur"],
        ignore_patterns=MAKEMESSAGES_IGNORE,
        add_location="file",
        no_obsolete=True,
        verbosity=0,
    )

    extracted = tmp_path / "locale" / "ur" / "LC_MESSAGES" / "django.po"
    fresh = {_key(entry) for entry in polib.pofile(extracted.read_text())}
    committed = {_key(entry) for entry in catalogue if not entry.obsolete}
    fresh.discard(("", "", ""))
    committed.discard(("", "", ""))
    new = sorted(fresh - committed)
    gone = sorted(committed - fresh)
    assert (new, gone) == ([], []), (
        "locale/ur/LC_MESSAGES/django.po is out of date: run `make messages`, translate the "
        f"new msgids and run it again. New: {new[:10]} Gone: {gone[:10]}"
    )


def test_compiled_catalogue_matches_the_po(catalogue):
    compiled = _translations(polib.mofile(str(MO_PATH)))
    source = _translations(entry for entry in catalogue if entry.translated())

    assert compiled == source, "django.mo is stale: run `make messages` (compilemessages)"


def test_every_reference_name_is_marked_for_translation():
    locations = json.loads((BASE_DIR / "marketplace/data/pk_locations.json").read_text())
    categories = json.loads((BASE_DIR / "marketplace/data/categories.json").read_text())
    names = {province["name"] for province in locations["provinces"]}
    names |= {name for province in locations["provinces"] for name in province["cities"]}
    names |= {category["name"] for category in categories}
    names |= {child["name"] for category in categories for child in category.get("children", [])}
    marked = set(reference_names.CATEGORIES + reference_names.PROVINCES + reference_names.CITIES)

    assert names - marked == set()


# --- Templates: text outside translation tags ------------------------------------------------

SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
    "verbatim": "endverbatim",
}
TEXT_ATTRIBUTES = re.compile(
    r"\b(?:placeholder|title|alt|aria-label|aria-description|aria-roledescription|label|"
    r"data-text-[\w-]+)\s*=\s*(\"[^\"]*\"|'[^']*')"
)
# Names that are the same in every language. Keep this list short.
ALLOWED_WORDS = ("MadeInPK", "Facebook", "Instagram")
MARK = "\x00"


def _template_text(source: str) -> str:
    """The template with every tag, variable and translated block replaced by MARK."""
    parts, closing = [], None
    for token in Lexer(source).tokenize():
        if closing:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            parts.append(MARK)
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
            continue
        if token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            if bits[0] in SKIPPED_BLOCKS:
                closing = SKIPPED_BLOCKS[bits[0]]
            elif bits[0] == "block" and len(bits) > 1 and bits[1].endswith("class"):
                closing = "endblock"  # CSS classes filled into an attribute
        parts.append(MARK)
    return "".join(parts)


def untranslated_text(source: str, *, html: bool = True) -> list[str]:
    """User-facing text in a template that no translation tag covers."""
    text = _template_text(source)
    chunks = []
    if html:
        text = re.sub(r"<(script|style)\b.*?</\1\s*>", MARK, text, flags=re.S | re.I)
        text = re.sub(r"<!--.*?-->", MARK, text, flags=re.S)
        chunks.extend(match.group(1)[1:-1] for match in TEXT_ATTRIBUTES.finditer(text))
        text = re.sub(r"<[^>]*>", MARK, text)
    chunks.extend(text.split(MARK))
    found = []
    for chunk in chunks:
        chunk = re.sub(r"&[#\w]+;", " ", chunk)
        for word in ALLOWED_WORDS:
            chunk = chunk.replace(word, " ")
        if re.search(r"[^\W\d_]", chunk):
            found.append(" ".join(chunk.split()))
    return found


def _templates() -> list[Path]:
    folders = [BASE_DIR / "templates", *(BASE_DIR / "marketplace").glob("**/templates")]
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.suffix in {".html", ".txt"} and "tests" not in path.parts
    )


def test_the_template_scan_finds_text_outside_translation_tags():
    source = (
        '{% load i18n %}<p title="Tip">Hello {{ name }}</p>'
        '<p>{% translate "Fine" %}</p>{% blocktranslate %}Also fine{% endblocktranslate %}'
        "<script>var ok = 'code';</script><b>MadeInPK</b> <i>12,500 –</i>"
    )

    assert untranslated_text(source) == ["Tip", "Hello"]


@pytest.mark.parametrize("path", _templates(), ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_template_has_no_untranslated_text(path):
    found = untranslated_text(path.read_text(), html=path.suffix == ".html")

    assert found == [], f"wrap in {{% translate %}} or {{% blocktranslate %}}: {found}"


# --- Choosing a language --------------------------------------------------------------------


def _urdu(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"


@pytest.mark.parametrize("name", ["home", "product_list", "auction_list", "help", "login"])
def test_page_renders_right_to_left_in_urdu(client, db, name):
    _urdu(client)

    html = client.get(reverse(name)).content.decode()

    assert '<html lang="ur" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html
    assert URDU_LETTER.search(html)


@pytest.mark.parametrize(
    "name",
    [
        "profile",
        "profile_edit",
        "seller_profile_edit",
        "address_list",
        "address_create",
        "favourite_list",
        "dashboard_listings",
        "listing_create",
        "auction_create",
        "my_bids",
        "order_list",
        "sale_list",
        "cart_detail",
        "password_change",
    ],
)
def test_account_and_seller_pages_render_right_to_left_in_urdu(seller_client, name):
    _urdu(seller_client)

    response = seller_client.get(reverse(name))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ur" dir="rtl">' in html
    assert URDU_LETTER.search(html)


def _english_lines(html: str, allowed: set[str]) -> list[str]:
    """Lines of visible text with English words and no Urdu, apart from `allowed` ones."""
    html = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", html, flags=re.S)
    lines = (line.strip() for line in re.sub(r"<[^>]+>", "\n", html).splitlines())
    return [
        line
        for line in lines
        if re.search(r"[A-Za-z]{3,}", line) and not URDU_LETTER.search(line)
        if line not in allowed
    ]


@pytest.mark.parametrize(
    ("name", "data", "logged_in"),
    [
        ("register", {"password1": "123", "password2": "1234"}, False),
        ("login", {"username": "nobody", "password": "wrong"}, False),
        ("address_create", {"postal_code": "12"}, True),
        ("listing_create", {"price": "-1", "quantity": "x"}, True),
        ("auction_create", {"starting_price": "abc"}, True),
        ("seller_profile_edit", {"website": "not a link"}, True),
        (
            "password_change",
            {"old_password": "x", "new_password1": "1", "new_password2": "2"},
            True,
        ),
    ],
)
def test_forms_with_errors_show_no_english_in_urdu(client, seller, name, data, logged_in):
    # Catches labels, help texts, choices and Django messages that escape translation,
    # including lazy strings evaluated at import time.
    if logged_in:
        client.force_login(seller)
    _urdu(client)

    html = client.post(reverse(name), data).content.decode()

    allowed = {"MadeInPK", "English", seller.seller_profile.shop_name}
    assert _english_lines(html, allowed) == []


def test_page_renders_left_to_right_in_english_by_default(client, db):
    html = client.get(reverse("home")).content.decode()

    assert '<html lang="en" dir="ltr">' in html
    assert "bootstrap.min.css" in html


def test_first_visit_follows_accept_language(client, db):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ur-PK,ur;q=0.9,en;q=0.5")

    assert '<html lang="ur" dir="rtl">' in response.content.decode()


def test_every_page_has_the_language_menu(client, db):
    html = client.get(reverse("help")).content.decode()

    assert f'action="{reverse("set_language")}"' in html
    assert 'name="language" value="ur" lang="ur"' in html
    assert "اردو" in html


def test_visitor_choice_is_kept_in_a_cookie(client, db):
    response = client.post(reverse("set_language"), {"language": "ur", "next": "/help/"})

    assert response.status_code == 302
    assert response["Location"] == "/help/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ur"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE


def test_switching_language_saves_it_on_the_user(buyer_client, buyer):
    buyer_client.post(reverse("set_language"), {"language": "ur", "next": "/"})

    buyer.refresh_from_db()
    assert buyer.language == "ur"


def test_an_unknown_language_is_not_saved(buyer_client, buyer):
    buyer_client.post(reverse("set_language"), {"language": "xx", "next": "/"})

    buyer.refresh_from_db()
    assert buyer.language == ""


def test_switching_language_needs_post(client, db):
    assert client.get(reverse("set_language")).status_code == 405


def test_users_language_follows_them_to_another_device(client, buyer):
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    client.force_login(buyer)  # a new browser: no language cookie, English Accept-Language

    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="ur" dir="rtl">' in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ur"


def test_a_visitors_choice_is_saved_on_the_account_they_log_in_to(client, buyer):
    _urdu(client)
    client.force_login(buyer)

    client.get(reverse("home"))

    buyer.refresh_from_db()
    assert buyer.language == "ur"


def test_logging_in_applies_the_saved_language(client, buyer):
    from marketplace.tests.conftest import PASSWORD

    buyer.language = "ur"
    buyer.save(update_fields=["language"])

    response = client.post(
        reverse("login"), {"username": buyer.username, "password": PASSWORD}, follow=True
    )

    assert '<html lang="ur" dir="rtl">' in response.content.decode()


# --- Numbers, prices, reference data --------------------------------------------------------


def test_prices_read_naturally_in_both_languages():
    from marketplace.money import format_pkr

    with translation.override("en"):
        assert format_pkr("12500") == "Rs 12,500"
    with translation.override("ur"):
        assert format_pkr("12500") == "12,500 روپے"


def test_city_names_are_shown_in_the_current_language(db):
    lahore = city("Lahore")

    with translation.override("ur"):
        assert lahore.display_name == "لاہور"
        assert str(lahore.province) == "پنجاب"
    with translation.override("en"):
        assert str(lahore) == "Lahore"


def test_django_validation_messages_are_in_urdu():
    from django import forms

    class Form(forms.Form):
        email = forms.EmailField()

    with translation.override("ur"):
        errors = [str(error) for error in Form({"email": "not-an-address"}).errors["email"]]

    assert errors == ["درست ای میل پتا درج کریں۔"]


# --- Sockets and notifications: each reader's own language ----------------------------------


def test_notification_is_written_in_the_recipients_language(seller, buyer, rival):
    rival.language = "ur"
    rival.save(update_fields=["language"])
    auction = make_auction(seller, starting_price="1000")
    bid(auction, rival, "1000")

    with translation.override("en"):  # the outbidding bidder reads English
        bid(auction, buyer, "1500")

    notice = Notification.objects.get(user=rival, kind=Notification.Kind.OUTBID)
    # The Latin title is isolated inside the Urdu sentence (U+2068 ... U+2069).
    assert (
        notice.title
        == "“\u2068Multani blue pottery vase\u2069” پر آپ کی بولی سے اونچی بولی لگ گئی ہے"
    )
    assert "1,500 روپے" in notice.body


def test_auction_notices_follow_each_recipient(seller, buyer, settings):
    from datetime import timedelta

    from django.utils import timezone

    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    auction = make_auction(seller, starting_price="1000")
    bid(auction, buyer, "1000")
    auction.ends_at = timezone.now() - timedelta(seconds=1)
    auction.save(update_fields=["ends_at"])

    with translation.override("ur"):
        close_auction(auction_id=auction.pk)

    won = Notification.objects.get(user=buyer)
    sold = Notification.objects.get(user=seller)
    assert URDU_LETTER.search(won.title)
    assert sold.title == "“Multani blue pottery vase” sold for Rs 1,000"


def test_the_bid_panel_is_rendered_once_per_language(seller):
    auction = make_auction(seller, starting_price="1000")
    from marketplace.queries import auctions as queries

    panels = realtime.render_panels(queries.auction_for_panel(auction.pk))

    assert set(panels) == {"en", "ur"}
    assert "Rs 1,000" in panels["en"]
    assert "1,000 روپے" in panels["ur"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_socket_errors_and_live_panels_use_the_viewers_language(seller, buyer):
    auction = make_auction(seller, starting_price="1000")
    router = URLRouter(websocket_urlpatterns)
    path = f"/ws/auction/{auction.pk}/"

    async def scenario():
        urdu = WebsocketCommunicator(router, path, headers=[(b"cookie", b"django_language=ur")])
        urdu.scope["user"] = AnonymousUser()
        english = WebsocketCommunicator(router, path, headers=[(b"accept-language", b"en")])
        english.scope["user"] = buyer
        english.scope["session"] = await database_sync_to_async(logged_in_session)(buyer)
        for communicator in (urdu, english):
            assert (await communicator.connect(timeout=3))[0]
            await communicator.receive_json_from(timeout=3)
        try:
            await urdu.send_json_to({"type": "place_bid", "amount": "1500"})
            error = await urdu.receive_json_from(timeout=3)
            assert error["message"] == "بولی لگانے کے لیے لاگ ان کریں۔"

            await english.send_json_to({"type": "place_bid", "amount": "1500"})
            replies = [await english.receive_json_from(timeout=3) for _ in range(2)]
            event = next(reply for reply in replies if reply["type"] == "new_bid")
            assert "Rs 1,500" in event["html"]

            urdu_event = await urdu.receive_json_from(timeout=3)
            assert urdu_event["type"] == "new_bid"
            assert "1,500 روپے" in urdu_event["html"]
            assert "html_by_language" not in urdu_event
        finally:
            await urdu.disconnect()
            await english.disconnect()

    async_to_sync(scenario)()


# --- Phones and slow links: images ----------------------------------------------------------

IMG_TAG = re.compile(r"<img\b[^>]*>", re.S)


def _attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


@pytest.fixture
def photographed(seller, buyer):
    """A fixed-price listing and an auction with two photos each, one of them in the cart."""
    from marketplace.images import save_product_images
    from marketplace.services.cart import add_to_cart
    from marketplace.tests.factories.orders import listing_by
    from marketplace.tests.test_images import photo

    listing = listing_by(seller, title="Multani blue pottery vase")
    auction = make_auction(seller, title="Hand-knotted Baluchi rug")
    for product in (listing.product, auction.product):
        save_product_images(product=product, files=[photo(), photo()], start_position=0)
    add_to_cart(user=buyer, listing=listing, quantity=1)
    return listing.product, auction.product


@pytest.mark.parametrize("page", ["home", "browse", "product", "auction", "shop", "cart"])
def test_images_are_sized_and_below_the_fold_ones_load_lazily(client, buyer, photographed, page):
    product, auction_product = photographed
    client.force_login(buyer)
    url = {
        "home": reverse("home"),
        "browse": reverse("product_list"),
        "product": product.get_absolute_url(),
        "auction": auction_product.get_absolute_url(),
        "shop": reverse("shop_detail", args=[product.seller.seller_profile.slug]),
        "cart": reverse("cart_detail"),
    }[page]

    tags = IMG_TAG.findall(client.get(url).content.decode())

    assert tags
    for index, tag in enumerate(tags):
        attributes = _attributes(tag)
        assert attributes.get("width", "0").isdigit() and int(attributes["width"]) > 0, tag
        assert attributes.get("height", "0").isdigit() and int(attributes["height"]) > 0, tag
        assert "alt" in attributes, tag
        main_photo = page in {"product", "auction"} and index == 0
        if not main_photo:
            assert attributes.get("loading") == "lazy", tag


def test_cards_show_the_thumbnail_not_the_full_photo(client, photographed):
    html = client.get(reverse("product_list")).content.decode()

    sources = [_attributes(tag)["src"] for tag in IMG_TAG.findall(html)]
    assert sources
    assert all("thumb" in source for source in sources)


# --- What the site wrote on an order is stored once and read in each reader's language --------


def test_a_reason_the_site_wrote_is_stored_in_english_and_shown_in_the_readers_language(
    client, seller, buyer, settings
):
    from marketplace import tasks
    from marketplace.models import Order, OrderEvent
    from marketplace.tests.factories.payments import won_auction_order

    order = won_auction_order(seller, buyer, overdue=True)
    with translation.override("ur"):  # whoever runs the job, the stored text is English
        tasks.check_payment_deadlines()
    order = Order.objects.get(pk=order.pk)
    assert order.cancel_reason == "Not paid by the payment deadline"
    assert OrderEvent.objects.get(order=order, kind="cancelled").note == order.cancel_reason

    client.force_login(buyer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    page = client.get(reverse("order_detail", args=[order.number])).text
    assert "ادائیگی کی آخری تاریخ تک ادا نہیں کیا گیا" in page
    assert "Not paid by the payment deadline" not in page
    client.force_login(seller)  # reads English
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert (
        "Not paid by the payment deadline"
        in client.get(reverse("order_detail", args=[order.number])).text
    )
