"""API routes, mounted at /api/studies/ (by studies.urls)."""

from django.urls import path

from studies import api

urlpatterns = [
    path("", api.StudyListView.as_view(), name="api_study_list"),
    path("participate/<str:token>/", api.ParticipationView.as_view(), name="api_participation"),
    path("participate/<str:token>/judgments/", api.JudgmentSubmitView.as_view(), name="api_judgment_submit"),
    path("<slug:slug>/", api.StudyDetailView.as_view(), name="api_study_detail"),
    path("<slug:slug>/responses/", api.StudyResponsesView.as_view(), name="api_study_responses"),
    path("<slug:slug>/progress/", api.StudyProgressView.as_view(), name="api_study_progress"),
    path("<slug:slug>/open/", api.StudyOpenView.as_view(), name="api_study_open"),
    path("<slug:slug>/close/", api.StudyCloseView.as_view(), name="api_study_close"),
    path("<slug:slug>/share/", api.StudyShareView.as_view(), name="api_study_share"),
    path("<slug:slug>/share/<str:username>/", api.StudyUnshareView.as_view(), name="api_study_unshare"),
]

# Report and export endpoints (studies.api_analysis, owned by the analysis engineer), before the catch-alls
# would not matter: their paths are longer than "<slug>/".
from studies import api_analysis  # noqa: E402

urlpatterns += api_analysis.urlpatterns
