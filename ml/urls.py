"""Model registry and job pages (namespace "ml", included at the site root), and the API under /api/ml/."""

from django.urls import include, path

from ml import views, views_training

urlpatterns = [
    path("models/", views.model_list, name="models"),
    path("models/register/", views.model_register, name="model_register"),
    path("models/<int:pk>/", views_training.model_version_detail, name="model_detail"),
    path("models/<int:pk>/promote/", views.model_promote, name="model_promote"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("projects/<slug:slug>/export/", views.export_launch, name="export_launch"),
    path("reports/new/", views.report_launch, name="report_launch"),
    path("api/ml/", include("ml.api_urls")),
]
