from django.urls import path

from trygg.policy import views

app_name = "policy"

urlpatterns = [
    path("", views.rulebook, name="rulebook"),
    path("short/", views.short, name="short"),
    path("explain/", views.explain_page, name="explain"),
    path("acknowledge/", views.acknowledge, name="acknowledge"),
]
