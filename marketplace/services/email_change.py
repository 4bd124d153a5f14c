"""Changing a user's e-mail address (issue 12, item 5).

The profile form asks for the current password; the address changes only when the link sent to
the NEW address is opened (a signed token that expires). The OLD address is then told, with an
undo link that puts it back, ends every session and asks for a new password: whoever changed
it had the account, so the password is no longer trusted. Tokens are single use: each names the
address it expects the account to have, which the step itself changes.
"""

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace import realtime
from marketplace.exceptions import AccountError
from marketplace.i18n import isolate, language_for_user
from marketplace.models import ApiToken, User

CONFIRM_SALT = "marketplace.email-change.confirm"
UNDO_SALT = "marketplace.email-change.undo"


def _token(user: User, *, old: str, new: str, salt: str) -> str:
    return signing.dumps({"u": user.pk, "old": old, "new": new}, salt=salt)


def _read(token: str, *, salt: str, max_age_hours: int) -> dict:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age_hours * 3600)
    except signing.SignatureExpired:
        raise AccountError(_("This link has expired."), code="link_expired") from None
    except signing.BadSignature:
        raise AccountError(_("This link is not valid."), code="link_invalid") from None
    return data


def _written_for(user: User, subject, body, **params) -> tuple[str, str]:
    """Subject and body in the user's language (the mail goes to an address, not a notice)."""
    with translation.override(language_for_user(user)):
        params["name"] = user.first_name or user.username
        # Names and addresses isolated inside right-to-left text; a link stays on its own line
        # as it is, so it can be opened and copied.
        params = {k: v if k == "url" else isolate(v) for k, v in params.items()}
        return str(subject), str(body) % params


def _taken(email: str, user: User) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()


def request_email_change(*, user: User, new_email: str, confirm_url) -> None:
    """Send the confirmation link to `new_email`; `confirm_url(token)` makes the absolute URL."""
    new_email = BaseUserManager.normalize_email(new_email.strip())
    if _taken(new_email, user):
        raise AccountError(
            _("Another account already uses this e-mail address."), code="email_taken"
        )
    url = confirm_url(_token(user, old=user.email, new=new_email, salt=CONFIRM_SALT))
    subject, body = _written_for(
        user,
        gettext_lazy("Confirm your new e-mail address on MadeInPK"),
        gettext_lazy(
            "Hello %(name)s,\n\nTo use this address for your MadeInPK account, open this link "
            "within %(hours)s hours:\n\n%(url)s\n\nIf you did not ask for this, ignore this "
            "e-mail: nothing changes."
        ),
        hours=settings.EMAIL_CHANGE_HOURS,
        url=url,
    )
    send_mail(subject, body, None, [new_email])


@transaction.atomic
def confirm_email_change(*, token: str, undo_url) -> User:
    """Apply the change the token asks for and tell the old address, with an undo link."""
    data = _read(token, salt=CONFIRM_SALT, max_age_hours=settings.EMAIL_CHANGE_HOURS)
    user = User.objects.select_for_update().filter(pk=data["u"]).first()
    if user is None or user.email != data["old"]:
        raise AccountError(_("This link has already been used."), code="link_used")
    if _taken(data["new"], user):
        raise AccountError(
            _("Another account already uses this e-mail address."), code="email_taken"
        )
    user.email = data["new"]
    user.save(update_fields=["email"])
    url = undo_url(_token(user, old=data["old"], new=data["new"], salt=UNDO_SALT))
    subject, body = _written_for(
        user,
        gettext_lazy("Your MadeInPK e-mail address was changed"),
        gettext_lazy(
            "Hello %(name)s,\n\nThe e-mail address of your MadeInPK account was changed from "
            "this address to %(new)s.\n\nIf you did not do this, open this link within "
            "%(days)s days to put this address back and lock out whoever changed it:\n\n"
            "%(url)s"
        ),
        new=data["new"],
        days=settings.EMAIL_CHANGE_UNDO_DAYS,
        url=url,
    )
    old = data["old"]
    transaction.on_commit(lambda: send_mail(subject, body, None, [old]))
    return user


@transaction.atomic
def undo_email_change(*, token: str) -> User:
    """Put the old address back, end every session and require a new password."""
    data = _read(token, salt=UNDO_SALT, max_age_hours=settings.EMAIL_CHANGE_UNDO_DAYS * 24)
    user = User.objects.select_for_update().filter(pk=data["u"]).first()
    if user is None or user.email != data["new"]:
        raise AccountError(_("This link has already been used."), code="link_used")
    user.email = data["old"]
    # A new password hash ends every session (Django checks it on each request).
    user.set_unusable_password()
    user.save(update_fields=["email", "password"])
    ApiToken.objects.filter(user=user).delete()  # an app signed in by the intruder too
    user_id = user.pk
    transaction.on_commit(lambda: realtime.broadcast_user_sessions_ended(user_id))
    return user
