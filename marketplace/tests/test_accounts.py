"""Accounts: registration, log-in throttling, log-out, password flows, profile, shop, admin."""

import re

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from marketplace.exceptions import ShopNameTaken
from marketplace.models import City, SellerProfile, User
from marketplace.services.accounts import register_user, save_seller_profile
from marketplace.tests.conftest import PASSWORD
from marketplace.tests.factories.accounts import SellerProfileFactory, UserFactory
from marketplace.tests.login_throttle_helpers import time_passes
from marketplace.views.decorators import seller_required

NEW_PASSWORD = "saffron-kite-lantern-42"


def registration_data(**overrides) -> dict:
    data = {
        "username": "zainab",
        "email": "zainab@example.pk",
        "first_name": "Zainab",
        "last_name": "Khan",
        "phone": "0321-7654321",
        "role": "buyer",
        "shop_name": "",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def login(client, username: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def is_logged_in(client) -> bool:
    return get_user(client).is_authenticated


# --- Registration ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_buyer_registers_is_logged_in_and_sent_home(client):
    response = client.post(reverse("register"), registration_data())

    assert response.status_code == 302
    assert response.url == reverse("home")
    user = User.objects.get(username="zainab")
    assert user.role == User.Role.BUYER
    assert user.check_password(NEW_PASSWORD)
    assert not SellerProfile.objects.filter(user=user).exists()
    assert get_user(client) == user


@pytest.mark.django_db
def test_the_mobile_number_is_stored_normalised(client):
    client.post(reverse("register"), registration_data(phone="0321 7654321"))

    assert User.objects.get(username="zainab").phone == "+923217654321"


@pytest.mark.django_db
def test_a_seller_registration_opens_the_shop_in_the_same_step(client):
    response = client.post(
        reverse("register"), registration_data(role="seller", shop_name="Zainab  Ralli Quilts")
    )

    assert response.status_code == 302
    assert response.url == reverse("seller_profile_edit")
    profile = SellerProfile.objects.get(user__username="zainab")
    assert profile.shop_name == "Zainab Ralli Quilts"
    assert profile.slug == "zainab-ralli-quilts"
    assert not profile.is_verified


@pytest.mark.django_db
def test_registration_follows_a_safe_next(client):
    response = client.post(reverse("register"), registration_data(next="/cart/"))

    assert response.url == "/cart/"


@pytest.mark.django_db
def test_registration_ignores_a_next_to_another_site(client):
    response = client.post(reverse("register"), registration_data(next="https://evil.example/"))

    assert response.url == reverse("home")


@pytest.mark.django_db
def test_an_e_mail_taken_in_another_case_is_refused_with_a_clear_message(client, buyer):
    response = client.post(reverse("register"), registration_data(email="BILAL@Example.PK"))

    assert response.status_code == 200
    assert "An account with this e-mail address already exists" in response.text
    assert not User.objects.filter(username="zainab").exists()


@pytest.mark.django_db
def test_a_bad_mobile_number_is_refused(client):
    response = client.post(reverse("register"), registration_data(phone="+44 7700 900123"))

    assert response.status_code == 200
    assert "Enter a Pakistani mobile number" in response.text
    assert not User.objects.filter(username="zainab").exists()


@pytest.mark.django_db
def test_a_weak_password_is_refused(client):
    response = client.post(
        reverse("register"), registration_data(password1="12345678", password2="12345678")
    )

    assert response.status_code == 200
    assert "This password is too common" in response.text
    assert not User.objects.filter(username="zainab").exists()


@pytest.mark.django_db
def test_passwords_that_differ_are_refused(client):
    response = client.post(reverse("register"), registration_data(password2="something-else-9"))

    assert response.status_code == 200
    assert "The two password fields didn" in response.text


@pytest.mark.django_db
def test_a_username_taken_in_another_case_is_refused(client, buyer):
    response = client.post(reverse("register"), registration_data(username="BILAL"))

    assert response.status_code == 200
    assert "already exists" in response.text
    assert User.objects.filter(username__iexact="bilal").count() == 1


@pytest.mark.django_db
def test_a_username_with_an_at_sign_is_refused(client):
    response = client.post(reverse("register"), registration_data(username="zainab@home"))

    assert response.status_code == 200
    assert "cannot contain" in response.text


@pytest.mark.django_db
def test_a_duplicate_shop_name_is_refused_in_any_case(client, seller):
    response = client.post(
        reverse("register"), registration_data(role="both", shop_name="amina pottery")
    )

    assert response.status_code == 200
    assert "A shop called “amina pottery” already exists" in response.text
    assert not User.objects.filter(username="zainab").exists()


@pytest.mark.django_db
def test_a_seller_must_give_a_shop_name(client):
    response = client.post(reverse("register"), registration_data(role="seller", shop_name=""))

    assert response.status_code == 200
    assert "Choose a shop name" in response.text
    assert not User.objects.filter(username="zainab").exists()


@pytest.mark.django_db
def test_an_unknown_role_is_refused_not_a_500(client):
    response = client.post(reverse("register"), registration_data(role="admin"))

    assert response.status_code == 200
    assert "Select a valid choice" in response.text


@pytest.mark.django_db
def test_registration_creates_no_account_when_the_shop_cannot_be_saved(seller):
    with pytest.raises(ShopNameTaken):
        register_user(
            username="zainab",
            email="zainab@example.pk",
            password=NEW_PASSWORD,
            first_name="Zainab",
            role=User.Role.SELLER,
            shop_name="Amina Pottery",
        )

    assert not User.objects.filter(username="zainab").exists()


@pytest.mark.django_db
def test_a_logged_in_user_opening_register_is_sent_to_the_profile(buyer_client):
    response = buyer_client.get(reverse("register"))

    assert response.status_code == 302
    assert response.url == reverse("profile")


# --- Log in and throttling --------------------------------------------------------------------


@pytest.mark.django_db
def test_log_in_by_username(client, buyer):
    response = login(client, "bilal")

    assert response.status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_log_in_by_e_mail_in_any_case(client, buyer):
    response = login(client, "Bilal@EXAMPLE.pk")

    assert response.status_code == 302
    assert get_user(client) == buyer


@pytest.mark.django_db
def test_a_wrong_password_shows_an_error_in_place(client, buyer):
    response = login(client, "bilal", "wrong-password")

    assert response.status_code == 200
    assert "do not match an account" in response.text
    assert not is_logged_in(client)


@pytest.mark.django_db
def test_log_in_follows_a_safe_next(client, buyer):
    response = client.post(
        reverse("login"), {"username": "bilal", "password": PASSWORD, "next": "/saved/"}
    )

    assert response.url == "/saved/"


@pytest.mark.django_db
def test_log_in_is_refused_after_the_failure_limit_even_with_the_right_password(
    client, buyer, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, "bilal", "wrong-password")

    response = login(client, "bilal")

    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.text
    assert "try again in 15 minutes" in response.text
    assert not is_logged_in(client)


@pytest.mark.django_db
def test_the_failure_that_reaches_the_limit_already_explains_the_cool_off(client, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_IP_FAILURE_LIMIT = 2
    login(client, "bilal", "wrong-password")

    response = login(client, "bilal", "wrong-password")

    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.text


@pytest.mark.django_db
def test_the_cool_off_ends(client, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    settings.LOGIN_COOLOFF_SECONDS = 60
    for _ in range(3):
        login(client, "bilal", "wrong-password")
    assert login(client, "bilal").status_code == 429

    time_passes(seconds=61)
    response = login(client, "bilal")

    assert response.status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_a_username_cool_off_also_covers_its_e_mail(client, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, "bilal", "wrong-password")

    response = login(client, "bilal@example.pk")

    assert response.status_code == 429


@pytest.mark.django_db
def test_other_usernames_are_not_affected_by_a_username_cool_off(client, buyer, rival, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        login(client, "bilal", "wrong-password", ip=ip)

    response = login(client, "rabia", ip="10.0.0.9")

    assert response.status_code == 302
    assert get_user(client) == rival


@pytest.mark.django_db
def test_one_ip_is_cooled_off_after_failures_on_many_usernames(client, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for name in ("alpha", "beta", "gamma"):
        login(client, name, "wrong-password", ip="10.6.6.6")

    assert login(client, "bilal", ip="10.6.6.6").status_code == 429
    assert login(client, "bilal", ip="10.0.0.7").status_code == 302


@pytest.mark.django_db
def test_a_successful_log_in_clears_the_username_counter(client, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 100
    login(client, "bilal", "wrong-password")
    login(client, "bilal", "wrong-password")
    assert login(client, "bilal").status_code == 302
    client.logout()

    login(client, "bilal", "wrong-password")
    login(client, "bilal", "wrong-password")

    assert login(client, "bilal").status_code == 302


@pytest.mark.django_db
def test_a_very_long_username_is_an_error_not_a_500(client):
    response = login(client, "x" * 10_000, "whatever")

    assert response.status_code == 200
    assert "do not match an account" in response.text


@pytest.mark.django_db
def test_the_admin_log_in_is_throttled_too(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_IP_FAILURE_LIMIT = 2
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    for _ in range(2):
        client.post(url, {"username": "boss", "password": "wrong-password"})

    response = client.post(url, {"username": "boss", "password": PASSWORD})

    assert "Too many failed log-in attempts" in response.text
    assert not is_logged_in(client)


# --- Log out ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_out_by_get_only_asks(buyer_client):
    response = buyer_client.get(reverse("logout"))

    assert response.status_code == 200
    assert "Log out of MadeInPK?" in response.text
    assert is_logged_in(buyer_client)


@pytest.mark.django_db
def test_log_out_by_post_logs_out(buyer_client):
    response = buyer_client.post(reverse("logout"))

    assert response.status_code == 302
    assert not is_logged_in(buyer_client)


# --- Passwords --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_reset_mails_a_link_that_sets_a_new_password(client, buyer):
    response = client.post(reverse("password_reset"), {"email": "BILAL@example.pk"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bilal@example.pk"]
    assert message.subject == "Reset your MadeInPK password"
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.url == reverse("password_reset_complete")
    buyer.refresh_from_db()
    assert buyer.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_sends_nothing_but_looks_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.pk"})

    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_used_reset_link_says_it_no_longer_works(client, buyer):
    client.post(reverse("password_reset"), {"email": "bilal@example.pk"})
    link = re.search(r"(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    again = client.get(link, follow=True)

    assert "This link no longer works" in again.text


@pytest.mark.django_db
def test_password_change_keeps_the_user_logged_in(buyer_client, buyer):
    response = buyer_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.url == reverse("password_change_done")
    buyer.refresh_from_db()
    assert buyer.check_password(NEW_PASSWORD)
    assert is_logged_in(buyer_client)


@pytest.mark.django_db
def test_password_change_with_a_wrong_old_password_shows_the_error(buyer_client):
    response = buyer_client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.text


# --- Profile ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["profile", "profile_edit", "seller_profile_edit"])
def test_account_pages_require_log_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


@pytest.mark.django_db
def test_the_profile_shows_details_and_links(buyer_client):
    response = buyer_client.get(reverse("profile"))

    assert response.status_code == 200
    assert "bilal@example.pk" in response.text
    assert reverse("password_change") in response.text
    assert reverse("address_list") in response.text
    assert reverse("seller_profile_edit") in response.text


@pytest.mark.django_db
def test_the_profile_links_to_the_sellers_shop(seller_client, seller):
    response = seller_client.get(reverse("profile"))

    assert reverse("shop_detail", kwargs={"slug": seller.seller_profile.slug}) in response.text


@pytest.mark.django_db
def test_a_blocked_user_sees_the_block_and_its_reason(buyer_client, buyer):
    buyer.block("Three auction wins left unpaid.")

    response = buyer_client.get(reverse("profile"))

    assert "Buying and bidding are blocked" in response.text
    assert "Three auction wins left unpaid." in response.text


@pytest.mark.django_db
def test_profile_edit_saves_details_with_a_normalised_phone(buyer_client, buyer):
    response = buyer_client.post(
        reverse("profile_edit"),
        {
            "first_name": "Bilal",
            "last_name": "Ahmed",
            "email": "bilal@example.pk",
            "phone": "0300-1234567",
        },
    )

    assert response.url == reverse("profile")
    buyer.refresh_from_db()
    assert (buyer.last_name, buyer.email, buyer.phone) == (
        "Ahmed",
        "bilal@example.pk",
        "+923001234567",
    )


@pytest.mark.django_db
def test_profile_edit_refuses_an_e_mail_of_another_account(buyer_client, buyer, rival):
    response = buyer_client.post(
        reverse("profile_edit"),
        {"first_name": "Bilal", "email": "RABIA@example.pk", "phone": ""},
    )

    assert response.status_code == 200
    assert "Another account already uses this e-mail address" in response.text
    buyer.refresh_from_db()
    assert buyer.email == "bilal@example.pk"


@pytest.mark.django_db
def test_a_refused_profile_edit_does_not_show_the_rejected_name(buyer_client):
    response = buyer_client.post(
        reverse("profile_edit"), {"first_name": "Hacker", "email": "not-an-email"}
    )

    assert response.status_code == 200
    assert response.context["user"].first_name == "Bilal"


# --- Shop (seller profile) --------------------------------------------------------------------


def shop_data(**overrides) -> dict:
    data = {
        "shop_name": "Bilal Brassware",
        "bio": "Engraved brass from Peshawar's Qissa Khwani.",
        "city": City.objects.get(name="Peshawar").pk,
        "website": "",
        "facebook": "https://www.facebook.com/bilalbrass",
        "instagram": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_opening_a_shop_makes_a_buyer_a_buyer_and_seller(buyer_client, buyer):
    response = buyer_client.post(reverse("seller_profile_edit"), shop_data())

    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.role == User.Role.BOTH
    assert buyer.seller_profile.slug == "bilal-brassware"
    assert buyer.seller_profile.city.name == "Peshawar"


@pytest.mark.django_db
def test_editing_a_shop_keeps_a_sellers_role(seller_client, seller):
    seller_client.post(reverse("seller_profile_edit"), shop_data(shop_name="Amina Blue Pottery"))

    seller.refresh_from_db()
    assert seller.role == User.Role.SELLER
    assert seller.seller_profile.shop_name == "Amina Blue Pottery"
    assert seller.seller_profile.slug == "amina-blue-pottery"


@pytest.mark.django_db
def test_the_verified_badge_cannot_be_self_granted(buyer_client, buyer):
    buyer_client.post(reverse("seller_profile_edit"), shop_data(is_verified="on"))

    assert not SellerProfile.objects.get(user=buyer).is_verified


@pytest.mark.django_db
def test_a_shop_name_of_another_shop_is_refused(buyer_client, seller):
    response = buyer_client.post(
        reverse("seller_profile_edit"), shop_data(shop_name="AMINA POTTERY")
    )

    assert response.status_code == 200
    assert "already exists" in response.text


@pytest.mark.django_db
def test_a_facebook_link_must_point_to_facebook(buyer_client):
    response = buyer_client.post(
        reverse("seller_profile_edit"), shop_data(facebook="https://evil.example/facebook.com")
    )

    assert response.status_code == 200
    assert "Enter a link to a Facebook page" in response.text


@pytest.mark.django_db
def test_a_javascript_link_is_refused(buyer_client):
    response = buyer_client.post(
        reverse("seller_profile_edit"), shop_data(website="javascript:alert(1)")
    )

    assert response.status_code == 200
    assert not SellerProfile.objects.exists()


@pytest.mark.django_db
def test_an_urdu_shop_name_gets_an_urdu_slug(buyer):
    profile = save_seller_profile(user=buyer, shop_name="ملتانی نیلے برتن")

    assert profile.slug == "ملتانی-نیلے-برتن"
    assert reverse("shop_detail", kwargs={"slug": profile.slug})


@pytest.mark.django_db
def test_names_that_slugify_alike_get_distinct_slugs(buyer, rival):
    # "Truck Art!" and "Truck-Art" are one name now (issue 12: look-alike names are refused);
    # a slug still clashes with the old slug a renamed shop keeps as a redirect.
    first = save_seller_profile(user=buyer, shop_name="Truck Art!")
    save_seller_profile(user=buyer, shop_name="Lahore Truck Art")
    second = save_seller_profile(user=rival, shop_name="Truck-Art")

    assert (first.slug, second.slug) == ("truck-art", "truck-art-2")


@pytest.mark.django_db
def test_a_name_of_only_symbols_still_gets_a_slug(buyer):
    assert save_seller_profile(user=buyer, shop_name="★★★").slug == "shop"


@pytest.mark.django_db
def test_non_sellers_are_told_how_to_become_one_and_sellers_pass(buyer, seller):
    @seller_required
    def tiny_view(request):
        return HttpResponse("seller area")

    request = RequestFactory().get("/sell/")
    request.user = buyer
    refused = tiny_view(request)
    request.user = seller
    allowed = tiny_view(request)

    assert refused.status_code == 403
    assert reverse("seller_profile_edit") in refused.content.decode()
    assert allowed.content == b"seller area"


@pytest.mark.django_db
def test_after_opening_a_shop_the_seller_area_opens(buyer_client, buyer):
    buyer_client.post(reverse("seller_profile_edit"), shop_data())

    @seller_required
    def tiny_view(request):
        return HttpResponse("seller area")

    request = RequestFactory().get("/sell/")
    request.user = User.objects.get(pk=buyer.pk)

    assert tiny_view(request).status_code == 200


# --- Pages render -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "profile",
        "profile_edit",
        "seller_profile_edit",
        "password_change",
        "password_change_done",
        "logout",
    ],
)
def test_account_pages_render_for_a_seller(seller_client, name):
    assert seller_client.get(reverse(name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["register", "login", "password_reset", "password_reset_done", "password_reset_complete"],
)
def test_public_account_pages_render(client, name):
    assert client.get(reverse(name)).status_code == 200


# --- Admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client_(client, db):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:marketplace_user_changelist",
        "admin:marketplace_user_add",
        "admin:marketplace_sellerprofile_changelist",
        "admin:marketplace_province_changelist",
        "admin:marketplace_city_changelist",
        "admin:marketplace_address_changelist",
    ],
)
def test_admin_pages_render(admin_client_, seller, url_name):
    assert admin_client_.get(reverse(url_name), {"q": "amina"}).status_code == 200


@pytest.mark.django_db
def test_admin_user_change_page_renders(admin_client_, seller):
    url = reverse("admin:marketplace_user_change", args=[seller.pk])

    assert admin_client_.get(url).status_code == 200


@pytest.mark.django_db
def test_admin_action_blocks_and_lifts_the_block(admin_client_, buyer):
    url = reverse("admin:marketplace_user_changelist")
    admin_client_.post(url, {"action": "block_users", "_selected_action": [buyer.pk]})
    buyer.refresh_from_db()
    assert buyer.is_blocked
    assert buyer.blocked_reason

    admin_client_.post(url, {"action": "unblock_users", "_selected_action": [buyer.pk]})
    buyer.refresh_from_db()
    assert not buyer.is_blocked


@pytest.mark.django_db
def test_admin_action_marks_shops_verified_with_the_time(admin_client_):
    profile = SellerProfileFactory()

    admin_client_.post(
        reverse("admin:marketplace_sellerprofile_changelist"),
        {"action": "mark_verified", "_selected_action": [profile.pk]},
    )

    profile.refresh_from_db()
    assert profile.is_verified
    assert profile.verified_at is not None


@pytest.mark.django_db
def test_a_refused_link_is_explained_once(buyer_client):
    response = buyer_client.post(reverse("seller_profile_edit"), shop_data(website="ftp://x.pk/"))

    assert response.text.count("Enter a valid URL.") == 1


@pytest.mark.django_db
def test_staff_can_add_a_user_in_the_admin(admin_client_):
    response = admin_client_.post(
        reverse("admin:marketplace_user_add"),
        {
            "username": "sana",
            "email": "sana@example.pk",
            "role": "both",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "seller_profile-TOTAL_FORMS": "0",
            "seller_profile-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="sana").role == User.Role.BOTH


@pytest.mark.django_db
def test_ticking_verified_in_the_admin_records_when(admin_client_):
    profile = SellerProfileFactory()
    url = reverse("admin:marketplace_sellerprofile_change", args=[profile.pk])
    page = admin_client_.get(url)
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data.update({"user": profile.user_id, "city": profile.city_id, "is_verified": "on"})

    response = admin_client_.post(url, data)

    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.verified_at is not None


@pytest.mark.django_db
def test_the_ip_limit_can_be_higher_than_the_username_limit(client, buyer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_FAILURE_LIMIT = 10
    for name in ("alpha", "beta", "gamma", "delta"):
        login(client, name, "wrong-password", ip="10.6.6.6")

    assert login(client, "bilal", ip="10.6.6.6").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["profile_edit", "seller_profile_edit", "address_create", "password_change", "logout"],
)
def test_garbage_posted_to_account_forms_is_never_a_500(buyer_client, name):
    garbage = {
        "email": "\x00" * 3,
        "city": "'; DROP TABLE x;--",
        "role": ["a", "b"],
        "x": "y" * 5000,
    }

    response = buyer_client.post(reverse(name), garbage)

    assert response.status_code in {200, 302}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["register", "login", "password_reset"])
def test_garbage_posted_to_public_forms_is_shown_as_errors(client, name):
    garbage = {"username": "\x00", "email": "@@", "role": "root", "password1": "", "x": "y" * 5000}

    response = client.post(reverse(name), garbage)

    assert response.status_code == 200


# --- A renamed shop keeps its old addresses ---------------------------------------------------


@pytest.mark.django_db
def test_a_renamed_shops_old_address_leads_to_the_new_one(client, buyer):
    save_seller_profile(user=buyer, shop_name="Lahore Crafts")
    save_seller_profile(user=buyer, shop_name="Bilal's Woodwork")
    profile = save_seller_profile(user=buyer, shop_name="Bilal Sheesham House")

    for old in ("lahore-crafts", "bilals-woodwork"):
        response = client.get(reverse("shop_detail", kwargs={"slug": old}))
        assert response.status_code == 301
        assert response["Location"] == reverse("shop_detail", kwargs={"slug": profile.slug})
    assert client.get(reverse("shop_detail", kwargs={"slug": "never-was"})).status_code == 404


@pytest.mark.django_db
def test_another_shop_does_not_take_a_renamed_shops_old_address(buyer, rival):
    save_seller_profile(user=buyer, shop_name="Lahore Crafts")
    save_seller_profile(user=buyer, shop_name="Bilal's Woodwork")

    newcomer = save_seller_profile(user=rival, shop_name="Lahore Crafts")

    assert newcomer.slug == "lahore-crafts-2"


@pytest.mark.django_db
def test_taking_back_an_old_name_takes_back_its_address(client, buyer):
    save_seller_profile(user=buyer, shop_name="Lahore Crafts")
    save_seller_profile(user=buyer, shop_name="Bilal's Woodwork")

    profile = save_seller_profile(user=buyer, shop_name="Lahore Crafts")

    assert profile.slug == "lahore-crafts"
    assert client.get(reverse("shop_detail", kwargs={"slug": "lahore-crafts"})).status_code == 200
    response = client.get(reverse("shop_detail", kwargs={"slug": "bilals-woodwork"}))
    assert response["Location"] == reverse("shop_detail", kwargs={"slug": "lahore-crafts"})
