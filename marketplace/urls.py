"""URL patterns, grouped by area. Names follow `<noun>_<action>`; paths keep the seed's nouns."""

from django.contrib.auth import views as auth_views
from django.urls import path

from marketplace.views import (
    accounts,
    api_tokens,
    auctions,
    catalog,
    complaints,
    fulfilment,
    ledger,
    messaging,
    notifications,
    orders,
    pages,
    payments,
)

urlpatterns = [
    path("", pages.home, name="home"),
    path("help/", pages.help_page, name="help"),
    # Accounts and addresses
    path("accounts/register/", accounts.register, name="register"),
    path("accounts/login/", accounts.login_view, name="login"),
    path("accounts/logout/", accounts.logout_view, name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", accounts.password_reset, name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", accounts.profile, name="profile"),
    path("account/edit/", accounts.profile_edit, name="profile_edit"),
    path("account/shop/", accounts.seller_profile_edit, name="seller_profile_edit"),
    path("account/addresses/", accounts.address_list, name="address_list"),
    path("account/addresses/new/", accounts.address_create, name="address_create"),
    path("account/addresses/<int:pk>/edit/", accounts.address_edit, name="address_edit"),
    path("account/addresses/<int:pk>/delete/", accounts.address_delete, name="address_delete"),
    path(
        "account/addresses/<int:pk>/default/",
        accounts.address_make_default,
        name="address_make_default",
    ),
    path("account/apps/", api_tokens.api_token_list, name="api_token_list"),
    path("account/apps/<int:pk>/revoke/", api_tokens.api_token_revoke, name="api_token_revoke"),
    path("locations/cities/", accounts.city_options, name="city_options"),
    # Catalogue
    path("products/", catalog.product_list, name="product_list"),
    path("products/<int:pk>/", catalog.product_detail, name="product_detail"),
    path("products/<int:pk>/favourite/", catalog.favourite_toggle, name="favourite_toggle"),
    path("saved/", catalog.favourite_list, name="favourite_list"),
    path("shops/<str:slug>/", catalog.shop_detail, name="shop_detail"),
    path("sell/listings/", catalog.dashboard_listings, name="dashboard_listings"),
    path("sell/listings/new/", catalog.listing_create, name="listing_create"),
    path("sell/listings/<int:pk>/edit/", catalog.listing_edit, name="listing_edit"),
    path("sell/listings/<int:pk>/withdraw/", catalog.listing_withdraw, name="listing_withdraw"),
    # Cart, checkout, orders
    path("cart/", orders.cart_detail, name="cart_detail"),
    path("cart/add/<int:listing_pk>/", orders.cart_add, name="cart_add"),
    path("cart/items/<int:pk>/", orders.cart_update, name="cart_update"),
    path("cart/items/<int:pk>/remove/", orders.cart_remove, name="cart_remove"),
    path("listings/<int:listing_pk>/purchase/", orders.buy_now, name="buy_now"),
    path("checkout/", orders.checkout_start, name="checkout_start"),
    path("checkouts/<str:number>/", orders.checkout_detail, name="checkout_detail"),
    path("orders/", orders.order_list, name="order_list"),
    path("sales/", orders.sale_list, name="sale_list"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", orders.order_cancel, name="order_cancel"),
    # Payments
    path("checkouts/<str:number>/pay/", payments.checkout_pay, name="checkout_pay"),
    path("checkouts/<str:number>/address/", payments.checkout_address, name="checkout_address"),
    path("checkouts/<str:number>/paid/", payments.checkout_success, name="checkout_success"),
    path(
        "checkouts/<str:number>/payment-cancelled/",
        payments.checkout_cancelled,
        name="checkout_cancelled",
    ),
    path("stripe/webhook/", payments.stripe_webhook, name="stripe_webhook"),
    path("api/stripe/webhook/", payments.stripe_webhook, name="stripe_webhook_api"),
    path("sell/payouts/", payments.payouts_setup, name="payouts_setup"),
    path("sell/payouts/start/", payments.payouts_start, name="payouts_start"),
    path("sell/payouts/refresh/", payments.payouts_refresh, name="payouts_refresh"),
    path("sell/payouts/return/", payments.payouts_return, name="payouts_return"),
    path("offers/", payments.offer_list, name="offer_list"),
    path("offers/<int:pk>/accept/", payments.offer_accept, name="offer_accept"),
    path("offers/<int:pk>/decline/", payments.offer_decline, name="offer_decline"),
    # After the sale: shipping, delivery, feedback, reviews, messages, complaints
    path("orders/<str:number>/ship/", fulfilment.order_ship, name="order_ship"),
    path(
        "orders/<str:number>/delivered/",
        fulfilment.order_confirm_delivery,
        name="order_confirm_delivery",
    ),
    path("orders/<str:number>/feedback/", fulfilment.feedback_create, name="feedback_create"),
    path("orders/<str:number>/feedback/reply/", fulfilment.feedback_reply, name="feedback_reply"),
    path("products/<int:pk>/reviews/new/", fulfilment.review_create, name="review_create"),
    path("messages/", messaging.conversation_list, name="conversation_list"),
    path("messages/start/", messaging.conversation_start, name="conversation_start"),
    path("messages/<int:pk>/", messaging.conversation_detail, name="conversation_detail"),
    path("complaints/", complaints.complaint_list, name="complaint_list"),
    path("complaints/new/", complaints.complaint_create, name="complaint_create"),
    path("complaints/<str:number>/", complaints.complaint_detail, name="complaint_detail"),
    path("complaints/<str:number>/photo/", complaints.complaint_photo, name="complaint_photo"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notification_read_all",
    ),
    # Auctions
    path("auctions/", auctions.auction_list, name="auction_list"),
    path("auctions/<int:pk>/", auctions.auction_detail, name="auction_detail"),
    path("auctions/<int:pk>/bid/", auctions.auction_bid, name="auction_bid"),
    path("auctions/<int:pk>/panel/", auctions.auction_panel, name="auction_panel"),
    path("sell/auctions/new/", auctions.auction_create, name="auction_create"),
    path("sell/auctions/<int:pk>/bids/", auctions.auction_bids, name="auction_bids"),
    path("sell/auctions/<int:pk>/relist/", auctions.auction_relist, name="auction_relist"),
    path("my-bids/", auctions.my_bids, name="my_bids"),
]

# Seller ledger (issue 14): statement and payout method.
urlpatterns += [
    path("sell/statement/", ledger.ledger_statement, name="ledger_statement"),
    path("sell/statement.csv", ledger.ledger_statement_csv, name="ledger_statement_csv"),
    path("sell/payout-method/", ledger.payout_method, name="payout_method"),
]
