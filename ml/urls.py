"""Model registry pages and the model job launch page (namespace "ml", included at the site root), and the
API under /api/ml/."""

from django.urls import include, path

from ml import views, views_training

urlpatterns = [
    path("models/", views.model_list, name="models"),
    path("models/register/", views.model_register, name="model_register"),
    path("models/<int:pk>/", views_training.model_version_detail, name="model_detail"),
    path("models/<int:pk>/promote/", views.model_promote, name="model_promote"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("api/ml/", include("ml.api_urls")),
]
