from django.urls import path

from trygg.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("me/data/", views.my_data, name="my_data"),
    path("audit/", views.audit_log, name="audit"),
]
