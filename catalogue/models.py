"""Authors and their books: the example dataset.

The tables keep the names they had when these models lived in the ingest
app (``ingest_author``, ``ingest_book``), so moving them lost no row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Author(models.Model):
    name = models.CharField(_("name"), max_length=255, unique=True)
    # Database defaults too: the importers insert with set-based SQL that
    # names only the columns they have.
    birth_year = models.IntegerField(_("birth year"), null=True, blank=True)
    country = models.CharField(
        _("country"), max_length=100, blank=True, default="", db_default=""
    )

    class Meta:
        db_table = "ingest_author"
        ordering = ["name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    #: Longest title accepted; also bounds the (title, author) index entry.
    TITLE_MAX_LENGTH = 500

    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    author = models.ForeignKey(
        Author, verbose_name=_("author"), on_delete=models.PROTECT, related_name="books"
    )
    published_year = models.IntegerField(_("published year"), null=True, blank=True)

    class Meta:
        db_table = "ingest_book"
        ordering = ["title"]
        verbose_name = _("book")
        verbose_name_plural = _("books")
        constraints = [
            models.UniqueConstraint(
                fields=["title", "author"], name="book_natural_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.author})"
