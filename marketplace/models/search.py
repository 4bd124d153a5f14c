from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchSynonym(models.Model):
    """One concept buyers search for, with every way they write it.

    A query word matching any term finds listings that contain any other term of the concept
    (Urdu script, Roman Urdu spellings, English), and the listings of `category` if set.
    """

    name = models.CharField(_("concept"), max_length=80, unique=True)
    terms = models.TextField(
        _("terms"),
        help_text=_(
            "One term per line: Urdu script, every Roman Urdu spelling, English. "
            "A term may have several words."
        ),
    )
    category = models.ForeignKey(
        "marketplace.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("A query for this concept also finds this category's listings."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("search synonym")
        verbose_name_plural = _("search synonyms")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        from marketplace.queries.search import synonyms_changed

        synonyms_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        from marketplace.queries.search import synonyms_changed

        synonyms_changed()
        return result

    def term_list(self) -> list[str]:
        return [t.strip() for t in self.terms.replace(",", "\n").splitlines() if t.strip()]


class SearchWord(models.Model):
    """A word of some listing's title, normalised as queries are (PostgreSQL only).

    A search finding too little corrects its typed words against these few thousand words
    (a trigram index) rather than comparing trigrams with every title. Words are added when a
    listing is saved and never removed: a word no listing has any more simply finds nothing.
    """

    word = models.CharField(_("word"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("search word")
        verbose_name_plural = _("search words")

    def __str__(self) -> str:
        return self.word
