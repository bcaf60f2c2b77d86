"""Journals: a team's own model, unrelated to the catalogue."""

from django.db import models


class Journal(models.Model):
    issn = models.CharField(max_length=9, unique=True)
    title = models.CharField(max_length=200)
    year = models.IntegerField(null=True, blank=True)
    publisher = models.CharField(max_length=100, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"{self.issn} {self.title}"
