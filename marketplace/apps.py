from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from marketplace.schedules import setup_schedules_after_migrate

        # The schedules are kept in code (marketplace/schedules.py); every migrate (and the
        # flush of a transactional test) writes them, so a fresh database has its jobs.
        post_migrate.connect(
            setup_schedules_after_migrate, sender=self, dispatch_uid="marketplace-schedules"
        )
