"""django-q2 entry points: thin, each calls one service (schedules: migration 0005)."""

from marketplace.services import payments


def send_pending_transfers() -> dict[str, int]:
    return payments.send_pending_transfers()


def check_payment_deadlines() -> dict[str, int]:
    return payments.check_payment_deadlines()
