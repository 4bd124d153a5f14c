"""/api/: the seed's paths, the original project's paths where they differ, schema and docs.

Included after marketplace.urls, so `/api/stripe/webhook/` (the webhook's alias) stays there.
"""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from marketplace.api.errors import not_found
from marketplace.api.views import (
    accounts,
    auctions,
    catalog,
    complaints,
    messaging,
    orders,
    returns,
)

app_name = "api"

urlpatterns = [
    # Accounts and tokens
    path("register/", accounts.RegisterView.as_view(), name="register"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("auth/register/", accounts.RegisterView.as_view(), name="auth_register"),
    path("auth/login/", accounts.LoginView.as_view(), name="auth_login"),
    path("auth/logout/", accounts.LogoutView.as_view(), name="auth_logout"),
    path("me/", accounts.MeView.as_view(), name="me"),
    path("shop/delivery/", accounts.ShopDelivery.as_view(), name="shop_delivery"),
    path("tokens/", accounts.TokenList.as_view(), name="token_list"),
    path("tokens/<int:pk>/", accounts.TokenDetail.as_view(), name="token_detail"),
    path("addresses/", accounts.AddressList.as_view(), name="address_list"),
    path("addresses/<int:pk>/", accounts.AddressDetail.as_view(), name="address_detail"),
    path(
        "addresses/<int:pk>/default/",
        accounts.AddressMakeDefault.as_view(),
        name="address_make_default",
    ),
    path("notifications/", accounts.NotificationList.as_view(), name="notification_list"),
    path(
        "notifications/<int:pk>/read/",
        accounts.NotificationRead.as_view(),
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        accounts.NotificationReadAll.as_view(),
        name="notification_read_all",
    ),
    # Reference data
    path("categories/", accounts.CategoryList.as_view(), name="category_list"),
    path("provinces/", accounts.ProvinceList.as_view(), name="province_list"),
    path("cities/", accounts.CityList.as_view(), name="city_list"),
    # Catalogue
    path("products/", catalog.ProductList.as_view(), name="product_list"),
    path("products/<int:pk>/", catalog.ProductDetail.as_view(), name="product_detail"),
    path("listings/", catalog.ListingList.as_view(), name="listing_list"),
    path("listings/<int:pk>/purchase/", orders.ListingPurchase.as_view(), name="listing_purchase"),
    path(
        "products/<int:pk>/reviews/",
        catalog.ProductReviewList.as_view(),
        name="product_reviews",
    ),
    path("favourites/", catalog.FavouriteList.as_view(), name="favourite_list"),
    path("favourites/<int:pk>/", catalog.FavouriteDetail.as_view(), name="favourite_detail"),
    path("sell/listings/", catalog.SellerListingList.as_view(), name="seller_listing_list"),
    path(
        "sellers/<int:pk>/feedback/",
        catalog.SellerFeedbackList.as_view(),
        name="seller_feedback",
    ),
    # Auctions
    path("auctions/", auctions.AuctionList.as_view(), name="auction_list"),
    path("auctions/<int:pk>/", auctions.AuctionDetail.as_view(), name="auction_detail"),
    path("auctions/<int:pk>/bids/", auctions.AuctionBids.as_view(), name="auction_bids"),
    path(
        "auctions/<int:pk>/place_bid/",
        auctions.AuctionPlaceBid.as_view(),
        name="auction_place_bid",
    ),
    path("my-bids/", auctions.MyBidList.as_view(), name="my_bids"),
    # Cart, checkout, orders
    path("cart/", orders.CartView.as_view(), name="cart"),
    path("cart/<int:pk>/", orders.CartItemView.as_view(), name="cart_item"),
    path("checkout/", orders.CheckoutCart.as_view(), name="checkout"),
    path("checkouts/<str:number>/", orders.CheckoutDetail.as_view(), name="checkout_detail"),
    path("checkouts/<str:number>/pay/", orders.CheckoutPay.as_view(), name="checkout_pay"),
    path(
        "checkouts/<str:number>/address/",
        orders.CheckoutAddress.as_view(),
        name="checkout_address",
    ),
    path(
        "checkouts/<str:number>/cash-on-delivery/",
        orders.CheckoutCashOnDelivery.as_view(),
        name="checkout_cash_on_delivery",
    ),
    path("orders/", orders.OrderList.as_view(), name="order_list"),
    path("orders/<str:number>/", orders.OrderDetail.as_view(), name="order_detail"),
    path(
        "orders/<str:number>/mark-shipped/",
        orders.OrderMarkShipped.as_view(),
        name="order_mark_shipped",
    ),
    path(
        "orders/<str:number>/confirm-delivery/",
        orders.OrderConfirmDelivery.as_view(),
        name="order_confirm_delivery",
    ),
    path(
        "orders/<str:number>/confirm-cod/",
        orders.OrderConfirmCod.as_view(),
        name="order_confirm_cod",
    ),
    path("orders/<str:number>/feedback/", orders.OrderFeedback.as_view(), name="order_feedback"),
    path(
        "orders/<str:number>/feedback/reply/",
        orders.OrderFeedbackReply.as_view(),
        name="order_feedback_reply",
    ),
    path("orders/<str:number>/cancel/", orders.OrderCancel.as_view(), name="order_cancel"),
    path("orders/<str:number>/return/", returns.OrderReturn.as_view(), name="order_return"),
    path(
        "orders/<str:number>/return/accept/",
        returns.OrderReturnAccept.as_view(),
        name="order_return_accept",
    ),
    path(
        "orders/<str:number>/return/refuse/",
        returns.OrderReturnRefuse.as_view(),
        name="order_return_refuse",
    ),
    path(
        "orders/<str:number>/return/dispute/",
        returns.OrderReturnDispute.as_view(),
        name="order_return_dispute",
    ),
    path("orders/<str:number>/refund/", returns.OrderRefund.as_view(), name="order_refund"),
    # Messages and complaints
    path("conversations/", messaging.ConversationList.as_view(), name="conversation_list"),
    path(
        "conversations/<int:pk>/",
        messaging.ConversationDetail.as_view(),
        name="conversation_detail",
    ),
    path(
        "conversations/<int:pk>/messages/",
        messaging.MessageList.as_view(),
        name="message_list",
    ),
    path("complaints/", complaints.ComplaintList.as_view(), name="complaint_list"),
    path("complaints/<str:number>/", complaints.ComplaintDetail.as_view(), name="complaint_detail"),
    # Schema and docs (Swagger UI from our own static files; its start script is a separate
    # URL, not inline, so the page works under our Content-Security-Policy)
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ is a JSON 404.
    re_path(r"^.*$", not_found),
]
