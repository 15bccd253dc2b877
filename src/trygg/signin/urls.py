from django.urls import path

from trygg.signin import views

app_name = "signin"

urlpatterns = [
    path("oidc/<int:provider_id>/start/", views.oidc_start, name="oidc_start"),
    path("oidc/<int:provider_id>/callback/", views.oidc_callback, name="oidc_callback"),
    path("oidc/<int:provider_id>/backchannel-logout/", views.backchannel_logout, name="backchannel_logout"),
    path("unknown/", views.unknown_identity, name="unknown"),
    path("step-up/", views.step_up_page, name="step_up"),
    path("authenticator/", views.otp_enrol, name="otp"),
    path("sessions/", views.sessions_page, name="sessions"),
    path("password/", views.password_page, name="password"),
    path("link-codes/", views.link_code_page, name="link_codes"),
]
