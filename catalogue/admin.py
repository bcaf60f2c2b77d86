"""Admin of the example catalogue."""

from django.contrib import admin

from .models import Author, Book


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "birth_year", "country"]
    search_fields = ["name"]


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "published_year"]
    search_fields = ["title", "author__name"]
    list_select_related = ["author"]
    autocomplete_fields = ["author"]
