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
