"""Auth plumbing only (no business flow here): logging out closes that session's sockets."""

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from marketplace import realtime


@receiver(user_logged_out, dispatch_uid="marketplace.close_sockets_on_logout")
def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    # Sent by every logout (the site's and the admin's) before the session is flushed.
    if user is not None and request is not None:
        key = request.session.session_key
        realtime.broadcast_user_sessions_ended(user.pk, session_key=key)
