from django.urls import path

from trygg.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("new", views.new_conversation, name="new"),
    path("<int:conversation_id>/", views.conversation_view, name="conversation"),
    path("<int:conversation_id>/send", views.send_view, name="send"),
    path("<int:conversation_id>/messages/<int:message_id>/", views.sensitive_message_view, name="sensitive"),
    path("<int:conversation_id>/share", views.share_view, name="share"),
    path("<int:conversation_id>/members/add", views.add_member_view, name="add_member"),
    path("<int:conversation_id>/members/remove", views.remove_member_view, name="remove_member"),
    path("children/<int:child_id>/", views.child_view, name="child"),
    path("shared/<int:conversation_id>/", views.shared_view, name="shared"),
    path("notices/", views.notice_preferences_view, name="notices"),
    path("<int:conversation_id>/attach", views.attach_view, name="attach"),
    path("photos/", views.photos_view, name="photos"),
    path("photos/<int:attachment_id>/permission", views.decide_attachment_view, name="decide_attachment"),
    path("photos/<int:attachment_id>/agreement", views.agree_attachment_view, name="agree_attachment"),
    path("photos/<int:attachment_id>/withdraw", views.withdraw_attachment_view, name="withdraw_attachment"),
]
