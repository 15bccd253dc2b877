from django.urls import path

from trygg.web import pwa, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("me/", views.profile, name="profile"),
    path("me/data/", views.my_data, name="my_data"),
    path("audit/", views.audit_log, name="audit"),
    path("school-calendar/", views.school_calendar, name="school_calendar"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
]
