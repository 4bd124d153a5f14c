"""Models, one module per domain, re-exported here."""

from .api_tokens import ApiToken
from .auctions import AuctionListing, Bid
from .catalog import Category, Favourite, FixedPriceListing, Product, ProductImage
from .complaints import Complaint, ComplaintMessage
from .couriers import Parcel, ParcelEvent, RemittanceLine
from .feedback import Feedback, ProductReview
from .ledger import (
    LedgerAccount,
    LedgerEntry,
    LedgerMismatch,
    Payout,
    PayoutBatch,
    PayoutMethod,
)
from .locations import Address, City, Province
from .messaging import Conversation, Message
from .notifications import EmailDrain, Notification
from .orders import CartItem, Checkout, Order, OrderEvent, OrderItem
from .payments import (
    CodRefusal,
    ConnectedAccount,
    Payment,
    PaymentAttempt,
    PaymentViolation,
    Refund,
    SecondChanceOffer,
    SellerTransfer,
    StripeEvent,
)
from .returns import ReturnPhoto, ReturnRequest
from .search import SearchSynonym, SearchWord
from .users import DeliveryFeeMode, DeliveryRate, SellerProfile, ShopSlugRedirect, User

__all__ = [
    "Address",
    "ApiToken",
    "AuctionListing",
    "Bid",
    "CartItem",
    "Category",
    "Checkout",
    "City",
    "CodRefusal",
    "Complaint",
    "ComplaintMessage",
    "ConnectedAccount",
    "Conversation",
    "DeliveryFeeMode",
    "DeliveryRate",
    "EmailDrain",
    "Favourite",
    "Feedback",
    "FixedPriceListing",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerMismatch",
    "Message",
    "Notification",
    "Order",
    "OrderEvent",
    "OrderItem",
    "Parcel",
    "ParcelEvent",
    "Payment",
    "PaymentAttempt",
    "PaymentViolation",
    "Payout",
    "PayoutBatch",
    "PayoutMethod",
    "Product",
    "ProductImage",
    "ProductReview",
    "Province",
    "Refund",
    "RemittanceLine",
    "ReturnPhoto",
    "ReturnRequest",
    "SearchSynonym",
    "SearchWord",
    "SecondChanceOffer",
    "SellerProfile",
    "SellerTransfer",
    "ShopSlugRedirect",
    "StripeEvent",
    "User",
]
