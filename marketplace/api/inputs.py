"""What the API accepts: each serializer is checked by the form of the matching HTML page."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from marketplace.api.forms import FormSerializer
from marketplace.forms import accounts as account_forms
from marketplace.forms import addresses as address_forms
from marketplace.forms import auctions as auction_forms
from marketplace.forms import catalog as catalog_forms
from marketplace.forms import complaints as complaint_forms
from marketplace.forms import feedback as feedback_forms
from marketplace.forms import fulfilment as fulfilment_forms
from marketplace.forms import ledger as ledger_forms
from marketplace.forms import messaging as messaging_forms
from marketplace.forms import returns as return_forms
from marketplace.forms import shop_settings as shop_forms
from marketplace.models import (
    Checkout,
    Complaint,
    DeliveryFeeMode,
    Product,
    Province,
    Refund,
    ReturnRequest,
    User,
)

MAX_ID = 2**63 - 1


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def object_id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class RegisterInput(FormSerializer):
    form_class = account_forms.RegistrationForm
    aliases = {"password": ("password1", "password2")}

    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150, required=False)
    phone = serializers.CharField(required=False, help_text="e.g. 0300-1234567")
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.BUYER)
    shop_name = serializers.CharField(max_length=80, required=False)


class LoginInput(FormSerializer):
    form_class = account_forms.LoginForm

    username = serializers.CharField(help_text="Username or e-mail address.")
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    name = serializers.CharField(
        required=False, max_length=80, help_text="A name for this token (device or script)."
    )


class AddressInput(FormSerializer):
    form_class = address_forms.AddressForm

    label = serializers.CharField(required=False, max_length=40)
    full_name = serializers.CharField(max_length=120)
    phone = serializers.CharField(help_text="e.g. 0300-1234567")
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(required=False, max_length=200)
    city = object_id(help_text="A city id (GET /api/provinces/).")
    postal_code = serializers.CharField(required=False, max_length=5)
    is_default = serializers.BooleanField(required=False)


class _ProductFields(FormSerializer):
    file_fields = ("images",)

    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000)
    category = object_id(help_text="A category id (GET /api/categories/).")
    condition = serializers.ChoiceField(choices=Product.Condition.choices)
    city = object_id(help_text="A city id (GET /api/provinces/).")
    images = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        help_text="1 to 8 photos (multipart/form-data, the field repeated).",
    )


def _remove_images() -> serializers.ListField:
    return serializers.ListField(
        child=object_id(),
        required=False,
        max_length=50,
        help_text="Editing: ids of photos to delete (`images` adds new ones).",
    )


class PhotoRemovalInput(serializers.Serializer):
    remove_images = _remove_images()


class ListingInput(_ProductFields):
    form_class = catalog_forms.FixedPriceListingForm
    own_fields = ("remove_images",)

    price = money(min_value=1)
    quantity = serializers.IntegerField(min_value=1)
    max_per_order = serializers.IntegerField(required=False, min_value=1)
    sale_percent = serializers.IntegerField(required=False, min_value=1, max_value=90)
    sale_starts_at = serializers.DateTimeField(required=False)
    sale_ends_at = serializers.DateTimeField(required=False)
    remove_images = _remove_images()


class AuctionInput(_ProductFields):
    form_class = auction_forms.AuctionForm

    starting_price = money(min_value=1)
    reserve_price = money(required=False, min_value=1)
    duration_days = serializers.IntegerField(min_value=1, max_value=14)


class BidInput(FormSerializer):
    form_class = auction_forms.BidForm

    amount = money(help_text='Rupees, e.g. "5000.00".')
    max_amount = money(required=False, help_text="Bid for me up to this (proxy bidding).")


class ShipInput(FormSerializer):
    form_class = fulfilment_forms.ShipForm

    courier = serializers.CharField(max_length=60)
    tracking_number = serializers.CharField(max_length=60)


class FeedbackInput(FormSerializer):
    form_class = feedback_forms.FeedbackForm

    seller_rating = serializers.IntegerField(min_value=1, max_value=5)
    communication = serializers.IntegerField(min_value=1, max_value=5)
    shipping_speed = serializers.IntegerField(min_value=1, max_value=5)
    item_as_described = serializers.BooleanField()
    comment = serializers.CharField(required=False, max_length=2000)
    platform_rating = serializers.IntegerField(min_value=1, max_value=5)
    platform_comment = serializers.CharField(required=False, max_length=2000)

    def form_value(self, name: str, value):
        if name == "item_as_described" and isinstance(value, bool):
            return "yes" if value else "no"
        return super().form_value(name, value)


class ReplyInput(FormSerializer):
    form_class = feedback_forms.FeedbackReplyForm

    reply = serializers.CharField(max_length=2000)


class ReviewInput(FormSerializer):
    form_class = feedback_forms.ReviewForm

    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=120)
    text = serializers.CharField(max_length=4000)


class MessageInput(FormSerializer):
    form_class = messaging_forms.MessageForm

    body = serializers.CharField()


class ComplaintInput(FormSerializer):
    form_class = complaint_forms.ComplaintForm
    file_fields = ("photo",)

    category = serializers.ChoiceField(choices=Complaint.Category.choices)
    subject = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=5000)
    order = object_id(required=False, help_text="The id of one of your orders.")
    seller = object_id(required=False, help_text="A seller's id.")
    photo = serializers.ImageField(required=False)


# --- Plain shapes (no page has a form for these) --------------------------------------------


class ProvinceFeeInput(serializers.Serializer):
    province = object_id(help_text="A province id (GET /api/provinces/).")
    fee = money(min_value=0)


class ShopDeliveryInput(FormSerializer):
    """Checked by the page's own `ShopSettingsForm`; `rates` fills its per-province fields."""

    form_class = shop_forms.ShopSettingsForm
    own_fields = ("rates",)

    delivery_fee_mode = serializers.ChoiceField(
        choices=DeliveryFeeMode.values, help_text="`flat`, or `province` (then give `rates`)."
    )
    delivery_fee = money(help_text="Flat fee, or the fee to provinces not in `rates`.")
    rates = ProvinceFeeInput(
        many=True,
        required=False,
        help_text="By province: the whole table (provinces left out are charged "
        "`delivery_fee`); omitted in a PATCH, the table stays as it is.",
    )
    dispatch_days = serializers.IntegerField(min_value=0, help_text="Days before it is sent.")
    accepts_cod = serializers.BooleanField(required=False)
    cod_for_auctions = serializers.BooleanField(required=False)

    def own_form_values(self, own: dict) -> dict:
        if "rates" not in own:
            return {}
        form_field = shop_forms.ShopSettingsForm.province_field
        provinces = {p.pk: p for p in Province.objects.all()}
        fees = {}
        for rate in own["rates"]:
            province = provinces.get(rate["province"])
            if province is None or province.pk in fees:
                raise serializers.ValidationError(
                    {"rates": [_("Name each province once, by its id from /api/provinces/.")]}
                )
            fees[province.pk] = str(rate["fee"])
        return {form_field(p): fees.get(pk, "") for pk, p in provinces.items()}


class CartAddInput(serializers.Serializer):
    listing = object_id(help_text="A fixed-price listing id (`fixed_price.id` of a product).")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)


class QuantityInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class IdempotencyKey(serializers.RegexField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "32 hex digits chosen by the client: the same key again returns the same checkout.",
        )
        super().__init__(r"^[0-9a-f]{32}$", **kwargs)


class CheckoutInput(serializers.Serializer):
    address = object_id(required=False, help_text="One of your addresses; default if omitted.")
    expected_total = money(
        required=False, help_text="The total the buyer saw; refused if prices changed."
    )
    idempotency_key = IdempotencyKey()
    payment_method = serializers.ChoiceField(
        choices=Checkout.PaymentMethod.values,
        default=Checkout.PaymentMethod.CARD,
        error_messages={
            "invalid_choice": _("“{input}” is not a way to pay: send card, jazzcash or cod.")
        },
        help_text="One of the cart's `payment_methods` that is `available`: `card` (the answer "
        "has Stripe's page), `jazzcash` (its merchant form and the `form_fields` to post to "
        "it) or `cod`, cash on delivery (no payment page; each order then waits for the "
        "buyer's confirmation). A method not offered now is refused with `bad_method`, cash "
        "on delivery where it does not apply with its reason (`cod_not_accepted`, "
        "`cod_over_limit`, `cod_refused_before`).",
    )


class PayInput(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=["card", "jazzcash"],
        default="card",
        help_text="`card` (Stripe's page) or `jazzcash` (its merchant form, when the site has "
        "JazzCash configured; otherwise refused with `bad_method`).",
    )


class PurchaseInput(CheckoutInput):
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)


class ConversationStartInput(serializers.Serializer):
    product = object_id(required=False, help_text="Ask the seller of this product.")
    order = serializers.CharField(required=False, max_length=20, help_text="An order number.")

    def validate(self, data):
        if ("product" in data) == ("order" in data):
            raise serializers.ValidationError(_("Send either a product or an order."))
        return data


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class AddressChoiceInput(serializers.Serializer):
    address = object_id(help_text="One of your addresses.")


class FavouriteInput(serializers.Serializer):
    product = object_id(help_text="A product for sale (or an auction's product).")


class ReturnRequestInput(FormSerializer):
    form_class = return_forms.ReturnRequestForm
    file_fields = ("photos",)

    reason = serializers.ChoiceField(choices=ReturnRequest.Reason.choices)
    details = serializers.CharField(max_length=2000)
    photos = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        help_text="Up to 3 photos (multipart/form-data, the field repeated).",
    )


class ReturnRefuseInput(FormSerializer):
    form_class = return_forms.ReturnRefuseForm

    refusal_reason = serializers.CharField(max_length=2000)


class ReturnDisputeInput(FormSerializer):
    form_class = return_forms.ReturnDisputeForm

    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class RefundAccountInput(FormSerializer):
    form_class = ledger_forms.RefundAccountForm

    kind = serializers.ChoiceField(choices=Refund.PayeeKind.choices)
    iban = serializers.CharField(required=False, help_text="For kind=bank: PK and 22 characters.")
    wallet_number = serializers.CharField(
        required=False, help_text="For a wallet: the mobile number, e.g. 0300-1234567."
    )
    account_title = serializers.CharField(max_length=100)
