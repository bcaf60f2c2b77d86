"""Journals and their publishers: a team's own models, unrelated to the catalogue."""

from django.db import models


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
