from django.urls import path

from trygg.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.my_reports, name="mine"),
    path("report/", views.report_view, name="report"),
    path("handling/", views.case_list, name="list"),
    path("<int:case_id>/", views.case_view, name="detail"),
    path("<int:case_id>/sent/", views.sent_view, name="sent"),
    path("<int:case_id>/transition/", views.transition_view, name="transition"),
    path("<int:case_id>/confirm/", views.confirm_view, name="confirm"),
    path("<int:case_id>/reopen/", views.reopen_view, name="reopen"),
    path("<int:case_id>/family-messages/", views.family_message_view, name="family_message"),
    path("<int:case_id>/family-messages/<int:message_id>/decision/", views.family_decision_view,
         name="family_decision"),
    path("<int:case_id>/steps/<int:step_id>/", views.step_view, name="step"),
    path("<int:case_id>/contact/", views.contact_view, name="contact"),
    path("<int:case_id>/follow-up/", views.follow_up_view, name="follow_up"),
    path("<int:case_id>/evidence/", views.evidence_view, name="evidence"),
    path("<int:case_id>/evidence/<int:seq>/file", views.evidence_file, name="evidence_file"),
    path("<int:case_id>/print/", views.print_view, name="print"),
    path("<int:case_id>/export.zip", views.export_zip, name="export"),
]
