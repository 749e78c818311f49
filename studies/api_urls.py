"""API routes, mounted at /api/studies/ (by studies.urls, namespace "studies"): studies, participation and
judgments, and each study's report, plan and export."""

from django.urls import path

from studies import api, api_analysis

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
    path("<slug:slug>/report/", api_analysis.StudyReportView.as_view(), name="api_study_report"),
    path("<slug:slug>/export/", api_analysis.StudyExportView.as_view(), name="api_study_export"),
    path("<slug:slug>/plan/", api_analysis.StudyPlanView.as_view(), name="api_study_plan"),
]

