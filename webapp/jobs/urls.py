"""Job pages (namespace "jobs", included at the site root) and the jobs API under /api/jobs/."""

from django.urls import path

from webapp.jobs import api, views

urlpatterns = [
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("api/jobs/", api.JobListView.as_view(), name="api_jobs"),
    path("api/jobs/kinds/", api.KindListView.as_view(), name="api_job_kinds"),
    path("api/jobs/<int:pk>/", api.JobDetailView.as_view(), name="api_job_detail"),
    path("api/jobs/<int:pk>/cancel/", api.JobCancelView.as_view(), name="api_job_cancel"),
    path("api/jobs/<int:pk>/retry/", api.JobRetryView.as_view(), name="api_job_retry"),
]
