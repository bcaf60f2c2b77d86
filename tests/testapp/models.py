"""Journals and their publishers: a team's own models, unrelated to the catalogue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Journal(models.Model):
    issn = models.CharField(max_length=9, unique=True)
    title = models.CharField(max_length=200)
    year = models.IntegerField(null=True, blank=True)
    publisher = models.CharField(max_length=100, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"{self.issn} {self.title}"


class Publisher(models.Model):
    """A second dataset whose name column a journals file also has."""

    name = models.CharField(max_length=100, unique=True)
    country = models.CharField(max_length=100, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A price list's categories, looked up by their unique name."""

    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class PriceItem(models.Model):
    """An ordinary price list: a decimal, a choice, a date, a boolean, a foreign key."""

    class Currency(models.TextChoices):
        UAH = "UAH", _("hryvnia")
        USD = "USD", _("US dollar")
        EUR = "EUR", _("euro")

    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    valid_from = models.DateField()
    in_stock = models.BooleanField()
    category = models.ForeignKey(Category, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return self.sku
