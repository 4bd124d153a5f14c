from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from marketplace import checks, signals  # noqa: F401  (registers checks, receivers)
        from marketplace.schedules import setup_schedules_after_migrate

        # The schedules are kept in code (marketplace/schedules.py); every migrate (and the
        # flush of a transactional test) writes them, so a fresh database has its jobs.
        post_migrate.connect(
            setup_schedules_after_migrate, sender=self, dispatch_uid="marketplace-schedules"
        )
        # SQLite (`make run`) searches the text normalised by the same Python function as
        # queries (marketplace.queries.search); PostgreSQL does it in SQL.
        connection_created.connect(register_sqlite_functions, dispatch_uid="marketplace-sqlite")


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    from marketplace.queries.search import SQLITE_NORMALIZE, normalize

    connection.connection.create_function(
        SQLITE_NORMALIZE,
        1,
        lambda text: None if text is None else normalize(text),
        deterministic=True,
    )
