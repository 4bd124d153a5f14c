from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.forms.accounts import AdminLoginForm
from marketplace.i18n import lazy_format
from marketplace.models import Address, City, Notification, Province, SellerProfile, User
from marketplace.services.cod import clear_cod_refusals
from marketplace.services.notifications import notify

# --- Accounts: users, seller profiles, provinces, cities, addresses ---------------------------

# The admin log-in is throttled like the site's (same counters, same cool-off).
admin.site.login_form = AdminLoginForm


class BlockedFilter(admin.SimpleListFilter):
    title = _("blocked")
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return [("yes", _("Blocked")), ("no", _("Not blocked"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(blocked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(blocked_at__isnull=True)
        return queryset


class SellerProfileInline(admin.StackedInline):
    model = SellerProfile
    extra = 0
    can_delete = False
    fields = (
        "shop_name",
        "slug",
        "city",
        "is_verified",
        "verified_at",
        "accepts_cod",
        "cod_for_auctions",
    )
    readonly_fields = ("verified_at",)
    autocomplete_fields = ("city",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "role",
        "phone",
        "blocked",
        "date_joined",
    )
    list_filter = ("role", BlockedFilter, "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "email", "first_name", "last_name", "phone")
    ordering = ("-date_joined",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Marketplace"), {"fields": ("role", "phone", "email_notifications")}),
        (_("Block"), {"fields": ("blocked_at", "blocked_reason")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("blocked_at", "last_login", "date_joined")
    inlines = (SellerProfileInline,)
    actions = ("block_users", "unblock_users", "allow_cod_again")

    @admin.display(boolean=True, description=_("blocked"), ordering="blocked_at")
    def blocked(self, obj: User) -> bool:
        return obj.is_blocked

    @admin.action(description=_("Block from buying and bidding"))
    def block_users(self, request, queryset):
        reason = _("Blocked by staff on %(date)s.") % {
            "date": timezone.localdate().isoformat(),
        }
        count = 0
        for user in queryset.filter(blocked_at__isnull=True):
            with transaction.atomic():
                user.block(str(reason))
                notify(
                    user=user,
                    kind=Notification.Kind.ACCOUNT_BLOCKED,
                    title=_("Your account is blocked from buying and bidding"),
                    # Lazy: written in the blocked user's language, not the staff member's.
                    body=lazy_format(
                        _("Blocked by staff on %(date)s."), date=timezone.localdate().isoformat()
                    ),
                    url=reverse("help"),
                    dedupe_key=f"blocked:{user.blocked_at.isoformat()}",
                )
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d user blocked.", "%(count)d users blocked.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Allow cash on delivery again (clear refused parcels)"))
    def allow_cod_again(self, request, queryset):
        cleared = sum(clear_cod_refusals(buyer=user) for user in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d refused parcel cleared.", "%(count)d refused parcels cleared.", cleared
            )
            % {"count": cleared},
            messages.SUCCESS,
        )

    @admin.action(description=_("Lift block"))
    def unblock_users(self, request, queryset):
        count = 0
        for user in queryset.filter(blocked_at__isnull=False):
            user.unblock()
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d block lifted.", "%(count)d blocks lifted.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SellerProfile)
class SellerProfileAdmin(admin.ModelAdmin):
    list_display = ("shop_name", "user", "city", "is_verified", "verified_at", "created_at")
    list_filter = ("is_verified", "city__province")
    search_fields = ("shop_name", "slug", "user__username", "user__email")
    list_select_related = ("user", "city")
    autocomplete_fields = ("user", "city")
    readonly_fields = ("verified_at", "created_at")
    prepopulated_fields = {"slug": ("shop_name",)}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ("mark_verified", "unmark_verified")

    @admin.action(description=_("Mark verified"))
    def mark_verified(self, request, queryset):
        count = queryset.filter(is_verified=False).update(
            is_verified=True, verified_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext("%(count)d shop verified.", "%(count)d shops verified.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Remove verified badge"))
    def unmark_verified(self, request, queryset):
        count = queryset.filter(is_verified=True).update(is_verified=False, verified_at=None)
        self.message_user(
            request,
            ngettext(
                "Badge removed from %(count)d shop.", "Badge removed from %(count)d shops.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        # Ticking "verified" by hand records when, like the action does.
        if obj.is_verified and obj.verified_at is None:
            obj.verified_at = timezone.now()
        elif not obj.is_verified:
            obj.verified_at = None
        super().save_model(request, obj, form, change)


class CityInline(admin.TabularInline):
    model = City
    extra = 0
    fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "slug", "city_count")
    search_fields = ("name", "name_ur")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (CityInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(city_count=Count("cities"))

    @admin.display(description=_("cities"), ordering="city_count")
    def city_count(self, obj: Province) -> int:
        return obj.city_count


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("name", "province", "slug")
    list_filter = ("province",)
    search_fields = ("name", "province__name")
    list_select_related = ("province",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("full_name", "user", "label", "city", "phone", "is_default", "created_at")
    list_filter = ("is_default", "city__province")
    search_fields = ("full_name", "line1", "phone", "user__username", "user__email", "city__name")
    list_select_related = ("user", "city")
    autocomplete_fields = ("user", "city")
    readonly_fields = ("created_at",)


# --- End of accounts ---------------------------------------------------------------------------
