from django.urls import path

from trygg.meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new", views.new_meeting, name="new"),
    path("ask", views.ask_for_meeting, name="ask"),
    path("requests/<int:request_id>/answer", views.answer_request, name="answer_request"),
    path("calendar/reset", views.reset_feed, name="reset_feed"),
    path("<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("<int:meeting_id>/reflection", views.save_reflection, name="reflection"),
    path("<int:meeting_id>/agenda", views.save_agenda, name="agenda"),
    path("<int:meeting_id>/room/<str:key>/", views.room, name="room"),
]
