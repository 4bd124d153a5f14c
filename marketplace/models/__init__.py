"""Models, one module per domain, re-exported here."""

from .auctions import AuctionListing, Bid
from .catalog import Category, Favourite, FixedPriceListing, Product, ProductImage
from .locations import Address, City, Province
from .notifications import Notification
from .orders import CartItem, Checkout, Order, OrderItem
from .payments import (
    ConnectedAccount,
    Payment,
    PaymentAttempt,
    PaymentViolation,
    Refund,
    SecondChanceOffer,
    SellerTransfer,
    StripeEvent,
)
from .users import SellerProfile, User

__all__ = [
    "Address",
    "AuctionListing",
    "Bid",
    "CartItem",
    "Category",
    "Checkout",
    "City",
    "ConnectedAccount",
    "Favourite",
    "FixedPriceListing",
    "Notification",
    "Order",
    "OrderItem",
    "Payment",
    "PaymentAttempt",
    "PaymentViolation",
    "Product",
    "ProductImage",
    "Province",
    "Refund",
    "SecondChanceOffer",
    "SellerProfile",
    "SellerTransfer",
    "StripeEvent",
    "User",
]
