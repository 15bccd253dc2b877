from django.urls import path

from trygg.safety import views

app_name = "safety"

urlpatterns = [
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("alerts/<int:alert_id>/case/", views.case_view, name="case"),
    path("messages/<int:message_id>/show-an-adult/", views.show_an_adult_view, name="show_an_adult"),
]
