"""API routes, mounted at /api/ml/ (by ml.urls, namespace "ml")."""

from django.urls import path

from ml import api, api_training

urlpatterns = [
    path("models/", api.ModelListView.as_view(), name="api_models"),
    path("models/<int:pk>/", api.ModelDetailView.as_view(), name="api_model_detail"),
    path("models/<int:pk>/promote/", api.ModelPromoteView.as_view(), name="api_model_promote"),
    path("models/<int:pk>/lineage/", api_training.LineageView.as_view(), name="api_model_lineage"),
    path("train/", api_training.TrainLaunchView.as_view(), name="api_train"),
    path("jobs/<int:pk>/scores/", api.JobScoresView.as_view(), name="api_job_scores"),
    path("jobs/<int:pk>/human-agreement/", api.JobHumanAgreementView.as_view(), name="api_job_human_agreement"),
]
