"""What the API sends: read-only serializers over the same querysets as the pages.

Money is a string in rupees with two decimals; times are ISO 8601 in Asia/Karachi (+05:00);
people other than the reader appear by public name (shop or first name) or masked (bidders).
"""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.models import (
    Address,
    ApiToken,
    AuctionListing,
    Bid,
    CartItem,
    Category,
    City,
    Complaint,
    ComplaintMessage,
    Conversation,
    Feedback,
    FixedPriceListing,
    Message,
    Notification,
    Order,
    OrderItem,
    Product,
    ProductImage,
    ProductReview,
    Province,
    Refund,
    ReturnRequest,
    SellerProfile,
    User,
)
from marketplace.queries import auctions as queries


class Money(serializers.DecimalField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=12, decimal_places=2, coerce_to_string=True, **kwargs)


class DisplayName(serializers.CharField):
    """Reference data's name in the reader's language (`display_name`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="display_name", read_only=True, **kwargs)


# --- Reference data -------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    name = DisplayName()

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "parent"]


class CitySerializer(serializers.ModelSerializer):
    name = DisplayName()

    class Meta:
        model = City
        fields = ["id", "slug", "name", "province"]


class ProvinceSerializer(serializers.ModelSerializer):
    name = DisplayName()
    cities = CitySerializer(many=True, read_only=True)

    class Meta:
        model = Province
        fields = ["id", "slug", "name", "cities"]


# --- People ---------------------------------------------------------------------------------


class PartySerializer(serializers.Serializer):
    """Another user as the site shows them: id and public name, the shop when they sell."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="public_name", read_only=True)
    shop_slug = serializers.SerializerMethodField()

    def get_shop_slug(self, user: User) -> str | None:
        profile = getattr(user, "seller_profile", None)
        return profile.slug if profile is not None else None


class MeSerializer(serializers.ModelSerializer):
    shop = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "phone",
            "role",
            "is_seller",
            "is_blocked",
            "language",
            "shop",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_shop(self, user: User) -> dict | None:
        profile = getattr(user, "seller_profile", None)
        if profile is None:
            return None
        return {"name": profile.shop_name, "slug": profile.slug, "verified": profile.is_verified}


class DeliveryRateSerializer(serializers.Serializer):
    province = serializers.IntegerField(source="province_id")
    province_name = serializers.CharField(source="province.display_name")
    fee = Money()


class ShopDeliverySerializer(serializers.ModelSerializer):
    """A shop's delivery and cash-on-delivery settings (the page /account/shop/delivery/)."""

    delivery_fee = Money(help_text="Flat fee, or the fee to provinces not in `rates`.")
    rates = serializers.SerializerMethodField(
        help_text="By province (`delivery_fee_mode` `province`): the fee to each listed one."
    )
    cod_limit = serializers.SerializerMethodField(
        help_text="The site's limit: cash on delivery only for checkouts below it."
    )

    class Meta:
        model = SellerProfile
        fields = [
            "delivery_fee_mode",
            "delivery_fee",
            "rates",
            "dispatch_days",
            "accepts_cod",
            "cod_for_auctions",
            "cod_limit",
        ]
        read_only_fields = fields

    @extend_schema_field(DeliveryRateSerializer(many=True))
    def get_rates(self, profile: SellerProfile) -> list:
        rates = profile.delivery_rates.select_related("province").order_by("province__name")
        return DeliveryRateSerializer(rates, many=True).data

    @extend_schema_field(OpenApiTypes.STR)
    def get_cod_limit(self, profile: SellerProfile) -> str:
        return f"{settings.COD_LIMIT:.2f}"


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")
    token_id = serializers.IntegerField()
    user = MeSerializer()


# --- Catalogue ------------------------------------------------------------------------------


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.ImageField(source="image", read_only=True)
    thumbnail = serializers.ImageField(read_only=True)

    class Meta:
        model = ProductImage
        fields = ["id", "url", "thumbnail", "width", "height", "alt_text"]


class FixedPriceTermsSerializer(serializers.ModelSerializer):
    price = Money()
    current_price = serializers.SerializerMethodField()

    class Meta:
        model = FixedPriceListing
        fields = [
            "id",
            "status",
            "price",
            "current_price",
            "quantity",
            "max_per_order",
            "sale_percent",
            "sale_starts_at",
            "sale_ends_at",
        ]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_current_price(self, listing: FixedPriceListing) -> str:
        return f"{listing.current_price():.2f}"


class AuctionTermsSerializer(serializers.ModelSerializer):
    starting_price = Money()
    current_price = Money()
    minimum_next_bid = Money()
    has_reserve = serializers.SerializerMethodField()
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = AuctionListing
        fields = [
            "id",
            "status",
            "starting_price",
            "current_price",
            "minimum_next_bid",
            "bid_count",
            "reserve_met",
            "has_reserve",
            "starts_at",
            "ends_at",
            "is_open",
        ]

    def get_has_reserve(self, auction: AuctionListing) -> bool:
        return auction.reserve_price is not None

    def get_is_open(self, auction: AuctionListing) -> bool:
        return auction.is_open()


class ProductCardSerializer(serializers.ModelSerializer):
    """A product as browse shows it (no description: `card_queryset` leaves it unread)."""

    kind = serializers.SerializerMethodField()
    price = Money(source="display_price")
    seller = PartySerializer(read_only=True)
    category = serializers.PrimaryKeyRelatedField(read_only=True)
    city = CitySerializer(read_only=True)
    fixed_price = FixedPriceTermsSerializer(read_only=True)
    auction = AuctionTermsSerializer(read_only=True)
    images = ImageSerializer(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "kind",
            "title",
            "price",
            "condition",
            "category",
            "city",
            "seller",
            "fixed_price",
            "auction",
            "images",
            "created_at",
            "url",
        ]

    def get_kind(self, product: Product) -> str:
        return "auction" if product.is_auction else "fixed_price"


class ProductSerializer(ProductCardSerializer):
    class Meta(ProductCardSerializer.Meta):
        fields = [*ProductCardSerializer.Meta.fields, "description", "updated_at"]


# --- Auctions -------------------------------------------------------------------------------


class AuctionSerializer(AuctionTermsSerializer):
    product = ProductCardSerializer(read_only=True)
    leader = serializers.SerializerMethodField(
        help_text="Opaque token of the leading bidder, as on the WebSocket."
    )

    class Meta(AuctionTermsSerializer.Meta):
        fields = [*AuctionTermsSerializer.Meta.fields, "leader", "product"]

    def get_leader(self, auction: AuctionListing) -> str:
        leader_id = auction.leading_bid.bidder_id if auction.leading_bid_id else None
        return queries.bidder_token(auction.pk, leader_id)


class BidSerializer(serializers.ModelSerializer):
    """A bid as everyone sees it: the bidder masked, no proxy maximum."""

    bidder = serializers.SerializerMethodField()
    amount = Money()
    time = serializers.DateTimeField(source="created_at", read_only=True)
    automatic = serializers.BooleanField(source="is_automatic", read_only=True)
    is_winning = serializers.SerializerMethodField(help_text="This bid leads the auction now.")

    class Meta:
        model = Bid
        fields = ["id", "bidder", "amount", "time", "automatic", "is_winning"]

    def get_bidder(self, bid: Bid) -> str:
        return queries.mask_name(bid.bidder.username)

    def get_is_winning(self, bid: Bid) -> bool:
        return bid.pk == self.context["leading_bid_id"]


class BidAcceptedSerializer(serializers.Serializer):
    """`bid_accepted` of the WebSocket protocol, as an HTTP answer."""

    auction_id = serializers.IntegerField()
    leading = serializers.BooleanField(source="is_leading")
    bid_placed = serializers.BooleanField()
    your_maximum = Money(source="raised_maximum", allow_null=True)
    current_price = Money()
    minimum_next_bid = Money()
    bid_count = serializers.IntegerField()
    end_time = serializers.DateTimeField(source="ends_at")


class MyBidSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["leading", "outbid", "won", "lost"], read_only=True)
    auction = AuctionSerializer(read_only=True)


# --- Cart, checkout, orders -----------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    listing = serializers.IntegerField(source="listing.pk")
    product = serializers.IntegerField(source="product.pk")
    title = serializers.CharField(source="product.title")
    seller = PartySerializer(source="product.seller")
    quantity = serializers.IntegerField()
    unit_price = Money()
    line_total = Money()
    price_when_added = Money(source="price_was", allow_null=True)
    buyable = serializers.BooleanField()
    problem = serializers.CharField(help_text="Why this line cannot be bought now, or empty.")


class PaymentChoiceSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="`card`, `jazzcash` or `cod`: send it to `checkout/`.")
    available = serializers.SerializerMethodField()
    refusal = serializers.SerializerMethodField(
        help_text="Why it cannot be chosen now (`message`, `code`), or null."
    )

    def get_available(self, choice) -> bool:
        return choice.refusal is None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_refusal(self, choice):
        if choice.refusal is None:
            return None
        return {"message": str(choice.refusal.message), "code": choice.refusal.code}


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    total = Money(help_text="The items.")
    delivery_total = Money(help_text="Delivery to your default address (or the most it costs).")
    grand_total = Money()
    payment_methods = serializers.SerializerMethodField(
        help_text="The ways to pay for what can be bought, as the checkout page offers them "
        "(cash on delivery with the reason when it is refused)."
    )

    @extend_schema_field(PaymentChoiceSerializer(many=True))
    def get_payment_methods(self, basket) -> list:
        choices = basket.payment_choices(self.context["buyer"])
        return PaymentChoiceSerializer(choices, many=True).data


class CartItemSerializer(serializers.ModelSerializer):
    price_when_added = Money()

    class Meta:
        model = CartItem
        fields = ["id", "listing", "quantity", "price_when_added", "added_at"]


class OrderItemSerializer(serializers.ModelSerializer):
    unit_price = Money()
    line_total = Money()

    class Meta:
        model = OrderItem
        fields = ["id", "product", "title", "unit_price", "quantity", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    checkout = serializers.CharField(source="checkout.number", read_only=True)
    buyer = PartySerializer(read_only=True)
    seller = PartySerializer(read_only=True)
    items = OrderItemSerializer(many=True, read_only=True)
    subtotal = Money()
    shipping_fee = Money()
    total = Money()
    shipping_address = serializers.SerializerMethodField()
    is_cod = serializers.BooleanField(
        read_only=True,
        help_text="Cash on delivery: `payment_deadline` is then the time to confirm it by.",
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "checkout",
            "status",
            "buyer",
            "seller",
            "auction",
            "items",
            "subtotal",
            "shipping_fee",
            "total",
            "shipping_address",
            "payment_deadline",
            "is_cod",
            "created_at",
            "paid_at",
            "confirmed_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "courier",
            "tracking_number",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_shipping_address(self, order: Order) -> dict | None:
        if not order.has_shipping_address:
            return None
        return {
            "name": order.ship_name,
            "phone": order.ship_phone,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "province": order.ship_province,
            "postal_code": order.ship_postal_code,
        }


class CheckoutSerializer(serializers.Serializer):
    number = serializers.CharField()
    payment_method = serializers.CharField(
        help_text="`card`, `jazzcash` (the method last opened) or `cod` (cash on delivery)."
    )
    orders = OrderSerializer(many=True)
    total = Money()
    amount_due = Money()
    payment_url = serializers.URLField(
        allow_null=True,
        help_text="The hosted payment page to send the buyer to (card: GET it; JazzCash: POST "
        "`form_fields` to it).",
    )
    form_fields = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="JazzCash: the signed `pp_` fields the buyer's browser posts to `payment_url`, "
        "unchanged. Null otherwise.",
    )
    payment_error = serializers.DictField(
        allow_null=True, help_text="Why payment could not start (`message`, `code`)."
    )


class PaymentPageSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="`card` or `jazzcash`.")
    payment_url = serializers.URLField(
        help_text="Card: the page to send the buyer to (GET). JazzCash: its merchant form, "
        "which the buyer's browser must POST `form_fields` to."
    )
    form_fields = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="JazzCash: the signed `pp_` fields to post as a form, unchanged (the "
        "signature covers them). Null for cards.",
    )


# --- After the sale -------------------------------------------------------------------------


class AddressSerializer(serializers.ModelSerializer):
    city = CitySerializer(read_only=True)

    class Meta:
        model = Address
        fields = [
            "id",
            "label",
            "full_name",
            "phone",
            "line1",
            "line2",
            "city",
            "postal_code",
            "is_default",
            "created_at",
        ]


class ConversationSerializer(serializers.ModelSerializer):
    buyer = PartySerializer(read_only=True)
    seller = PartySerializer(read_only=True)
    product = serializers.SerializerMethodField()
    order = serializers.SerializerMethodField()
    unread = serializers.IntegerField(read_only=True, default=0)
    last_message = serializers.CharField(source="last_body", read_only=True, default="")

    class Meta:
        model = Conversation
        fields = [
            "id",
            "buyer",
            "seller",
            "product",
            "order",
            "unread",
            "last_message",
            "last_message_at",
            "created_at",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_product(self, conversation: Conversation) -> dict | None:
        product = conversation.product
        return {"id": product.pk, "title": product.title} if product else None

    def get_order(self, conversation: Conversation) -> str | None:
        return conversation.order.number if conversation.order_id else None


class MessageSerializer(serializers.ModelSerializer):
    sender = PartySerializer(read_only=True)
    is_mine = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "sender", "is_mine", "body", "created_at", "read_at"]

    def get_is_mine(self, message: Message) -> bool:
        return message.sender_id == self.context["request"].user.pk


class FeedbackSerializer(serializers.ModelSerializer):
    """Public feedback on a seller (the platform comment is for staff only)."""

    buyer = serializers.SerializerMethodField()
    order = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = Feedback
        fields = [
            "id",
            "order",
            "buyer",
            "seller_rating",
            "communication",
            "shipping_speed",
            "item_as_described",
            "comment",
            "seller_reply",
            "replied_at",
            "created_at",
        ]

    def get_buyer(self, feedback: Feedback) -> str:
        return queries.mask_name(feedback.buyer.username)


class ReviewSerializer(serializers.ModelSerializer):
    buyer = serializers.SerializerMethodField()

    class Meta:
        model = ProductReview
        fields = ["id", "buyer", "rating", "title", "text", "verified_purchase", "created_at"]

    def get_buyer(self, review: ProductReview) -> str:
        return queries.mask_name(review.buyer.username)


class SellerRatingSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    communication = serializers.FloatField(allow_null=True)
    shipping_speed = serializers.FloatField(allow_null=True)
    as_described_percent = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()


class ComplaintSerializer(serializers.ModelSerializer):
    order = serializers.SerializerMethodField()
    seller = PartySerializer(read_only=True)
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "number",
            "category",
            "subject",
            "description",
            "order",
            "seller",
            "status",
            "resolution_note",
            "has_photo",
            "created_at",
            "updated_at",
            "resolved_at",
        ]

    def get_order(self, complaint: Complaint) -> str | None:
        return complaint.order.number if complaint.order_id else None

    def get_has_photo(self, complaint: Complaint) -> bool:
        return bool(complaint.photo)


class ComplaintMessageSerializer(serializers.ModelSerializer):
    from_staff = serializers.BooleanField(read_only=True)

    class Meta:
        model = ComplaintMessage
        fields = ["id", "body", "from_staff", "created_at"]


class ComplaintDetailSerializer(ComplaintSerializer):
    """A complaint with its thread with staff (the list leaves the thread out)."""

    messages = ComplaintMessageSerializer(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "messages"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]


class CountSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


class RefundSerializer(serializers.ModelSerializer):
    """An order's refund: sent back by the provider that took the money, or, for cash on
    delivery (`provider` "manual"), owed until staff send it to the account the buyer gives."""

    order = serializers.CharField(source="order.number", read_only=True)
    reference = serializers.CharField(source="stripe_refund_id", read_only=True)
    needs_account = serializers.SerializerMethodField(
        help_text="True while the buyer must give an account (POST to this path) before staff "
        "can send a cash-on-delivery refund, including after staff could not send it."
    )
    account = serializers.CharField(
        source="payee_masked", read_only=True, help_text="The account given, masked."
    )

    class Meta:
        model = Refund
        fields = [
            "order",
            "amount",
            "provider",
            "status",
            "reference",
            "needs_account",
            "payee_kind",
            "account",
            "payee_given_at",
            "last_error",
            "created_at",
        ]

    def get_needs_account(self, obj: Refund) -> bool:
        return obj.needs_payee


class ReturnRequestSerializer(serializers.ModelSerializer):
    """A return of a delivered order: the buyer's reason, the seller's answer, staff's decision."""

    order = serializers.CharField(source="order.number", read_only=True)
    photos = serializers.SerializerMethodField(
        help_text="Paths of the buyer's photos (the buyer, the seller and staff may fetch them)."
    )

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "order",
            "status",
            "reason",
            "details",
            "photos",
            "refusal_reason",
            "dispute_note",
            "decision_note",
            "created_at",
            "answered_at",
            "disputed_at",
            "closed_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_photos(self, obj: ReturnRequest) -> list[str]:
        number = obj.order.number
        return [reverse("return_photo", args=[number, photo.pk]) for photo in obj.photos.all()]
