"""URL configuration: the admin, the login pages, the language switch, the dashboard."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="ingest/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's set_language (POST): the dashboard's language switcher posts
    # here; without it the switcher is not shown.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ingest.urls")),
]
