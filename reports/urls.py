from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("yeu-cau/", views.request_report, name="request"),
    path("<int:pk>/", views.job_detail, name="job_detail"),
    path("<int:pk>/trang-thai/", views.job_status, name="job_status"),
    path("<int:pk>/tai-ve/", views.job_download, name="job_download"),
]

# Inspection and supervision (kiểm tra, giám sát): plans, missions, records, recommendations.
from . import inspection_views as iv  # noqa: E402

urlpatterns += [
    path("kiem-tra/", iv.plan_list, name="inspection_plans"),
    path("kiem-tra/ke-hoach/moi/", iv.plan_create, name="inspection_plan_create"),
    path("kiem-tra/ke-hoach/<int:plan_id>/", iv.plan_detail, name="inspection_plan"),
    path("kiem-tra/ke-hoach/<int:plan_id>/sua/", iv.plan_edit, name="inspection_plan_edit"),
    path("kiem-tra/ke-hoach/<int:plan_id>/doan/moi/", iv.mission_create, name="inspection_mission_create"),
    path("kiem-tra/doan/<int:mission_id>/", iv.mission_detail, name="inspection_mission"),
    path("kiem-tra/doan/<int:mission_id>/sua/", iv.mission_edit, name="inspection_mission_edit"),
    path("kiem-tra/doan/<int:mission_id>/xoa/", iv.mission_delete, name="inspection_mission_delete"),
    path("kiem-tra/bien-ban/", iv.record_list, name="inspection_records"),
    path("kiem-tra/bien-ban/moi/", iv.record_create, name="inspection_record_create"),
    path("kiem-tra/bien-ban/<int:record_id>/", iv.record_detail, name="inspection_record"),
    path("kiem-tra/bien-ban/<int:record_id>/sua/", iv.record_edit, name="inspection_record_edit"),
    path("kiem-tra/bien-ban/<int:record_id>/tep/", iv.attachment_add, name="inspection_attachment_add"),
    path("kiem-tra/tep/<int:attachment_id>/", iv.attachment_download, name="inspection_attachment"),
    path("kiem-tra/tep/<int:attachment_id>/xoa/", iv.attachment_delete, name="inspection_attachment_delete"),
    path("kiem-tra/kien-nghi/", iv.recommendation_list, name="inspection_recommendations"),
    path("kiem-tra/kien-nghi/<int:recommendation_id>/", iv.recommendation_detail, name="inspection_recommendation"),
    path("kiem-tra/kien-nghi/<int:recommendation_id>/tra-loi/", iv.recommendation_answer,
         name="inspection_recommendation_answer"),
    path("kiem-tra/kien-nghi/<int:recommendation_id>/dong/", iv.recommendation_close,
         name="inspection_recommendation_close"),
    path("kiem-tra/kien-nghi/<int:recommendation_id>/mo-lai/", iv.recommendation_reopen,
         name="inspection_recommendation_reopen"),
    # Evidence files of a remedial report (the kwarg names are the permission matrix's: a recommendation
    # and a file of it).
    path("kiem-tra/kien-nghi/<int:recommendation_id>/minh-chung/", iv.evidence_add, name="inspection_evidence_add"),
    path("kiem-tra/kien-nghi/<int:recommendation_id>/minh-chung/<int:attachment_id>/", iv.evidence_download,
         name="inspection_evidence"),
    path("kiem-tra/kien-nghi/<int:recommendation_id>/minh-chung/<int:attachment_id>/xoa/", iv.evidence_delete,
         name="inspection_evidence_delete"),
]
