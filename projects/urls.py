from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.de_an_list, name="list"),
    path("tao-moi/", views.de_an_create, name="create"),
    path("cho-xu-ly/", views.queue, name="queue"),
    path("quy-trinh/", views.workflow_guide, name="workflow"),
    path("xuat-excel/", views.export_xlsx, name="export"),
    path("phe-duyet-nhieu/", views.bulk_approve, name="bulk_approve"),
    path("co-so/", views.establishment_list, name="establishments"),
    path("co-so/xuat-excel/", views.establishment_export, name="establishments_export"),
    path("co-so/<int:establishment_id>/", views.establishment_detail, name="establishment"),
    path("co-so/<int:establishment_id>/sua/", views.establishment_edit, name="establishment_edit"),
    path("co-so/tim/", views.establishment_options, name="establishment_options"),
    path("thong-bao/", views.notifications, name="notifications"),
    path("thong-bao/da-doc/", views.notifications_mark_read, name="notifications_mark_read"),
    path("<int:pk>/", views.de_an_detail, name="detail"),
    path("<int:pk>/sua/", views.de_an_edit, name="edit"),
    path("<int:pk>/thao-tac/", views.de_an_transition, name="transition"),
    path("<int:pk>/y-kien/", views.comment_add, name="comment"),
    path("<int:pk>/tai-lieu/", views.attachment_upload, name="attachment_upload"),
    path("tai-lieu/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("tai-lieu/<int:attachment_id>/xoa/", views.attachment_delete, name="attachment_delete"),
]
