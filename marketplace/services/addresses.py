"""Address book writes: every user with addresses has exactly one default address."""

from django.db import transaction

from marketplace.models import Address, User


def _lock_user(user: User) -> None:
    # Serialises address-book writes of one user, so two tabs cannot leave two defaults or none.
    User.objects.select_for_update().only("pk").get(pk=user.pk)


def save_address(*, user: User, address: Address) -> Address:
    """Save a new or edited address of `user`, keeping exactly one default.

    The first address becomes the default; ticking "default" moves it here; an address cannot
    stop being the default on its own (another one has to take over).
    """
    with transaction.atomic():
        _lock_user(user)
        address.user = user
        others = Address.objects.filter(user=user)
        if address.pk is not None:
            others = others.exclude(pk=address.pk)
        if address.is_default:
            others.filter(is_default=True).update(is_default=False)
        elif not others.filter(is_default=True).exists():
            address.is_default = True
        address.save()
    return address


def set_default_address(*, user: User, address_id: int) -> Address:
    """Make one of the user's addresses the default. Raises Address.DoesNotExist for others'."""
    with transaction.atomic():
        _lock_user(user)
        address = Address.objects.get(user=user, pk=address_id)
        if not address.is_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
            address.is_default = True
            address.save(update_fields=["is_default"])
    return address


def delete_address(*, user: User, address_id: int) -> None:
    """Delete one of the user's addresses; if it was the default, the newest other takes over.

    Orders keep their own snapshot of the shipping address, so any address may be deleted.
    """
    with transaction.atomic():
        _lock_user(user)
        address = Address.objects.get(user=user, pk=address_id)
        was_default = address.is_default
        address.delete()
        if was_default:
            successor = Address.objects.filter(user=user).order_by("-created_at", "-pk").first()
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
