"""Root URL configuration: the shell, each app's pages, the API and the admin."""

from django.contrib import admin
from django.urls import include, path

from trygg.api import api
from trygg.web import views as web_views

# An unreachable database or Redis answers 503 with Retry-After wherever it is noticed.
handler500 = "trygg.api_errors.server_error"

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("readyz", web_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("messages/", include("trygg.messaging.urls")),
    path("meetings/", include("trygg.meetings.urls")),
    path("classes/", include("trygg.classlist.urls")),
    path("cases/", include("trygg.cases.urls")),
    path("safety/", include("trygg.safety.urls")),
    path("guidelines/", include("trygg.policy.urls")),
    path("signin/", include("trygg.signin.urls")),
    path("", include("trygg.web.urls")),
]
