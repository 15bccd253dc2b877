from django.urls import path

from trygg.classlist import views

app_name = "classlist"

urlpatterns = [
    path("", views.overview, name="mine"),
    path("<int:class_id>/", views.class_list, name="list"),
    path("<int:class_id>/consent/", views.consent, name="consent"),
    path("<int:class_id>/completeness/", views.completeness, name="completeness"),
    path("<int:class_id>/remind", views.remind, name="remind"),
    path("<int:class_id>/export/", views.export, name="export"),
]
