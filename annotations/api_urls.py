"""API routes, mounted at /api/ (by annotations.urls, namespace "annotations"): projects and their items and
labels (researchers), agreement and annotator quality (researchers), and the annotation loop (annotators)."""

from django.urls import path

from annotations import api, api_agreement, api_annotate

urlpatterns = [
    path("projects/", api.ProjectListView.as_view(), name="api_projects"),
    path("projects/<slug:slug>/", api.ProjectDetailView.as_view(), name="api_project"),
    path("projects/<slug:slug>/progress/", api.ProjectProgressView.as_view(), name="api_project_progress"),
    path("projects/<slug:slug>/items/", api.ItemImportView.as_view(), name="api_project_items"),
    path("projects/<slug:slug>/labels/", api.LabelImportView.as_view(), name="api_project_labels"),
    path("projects/<slug:slug>/labels/export/", api.LabelExportView.as_view(), name="api_project_export"),
    path("projects/<slug:slug>/share/", api.ProjectShareView.as_view(), name="api_project_share"),
    path("projects/<slug:slug>/share/<str:username>/", api.ProjectUnshareView.as_view(), name="api_project_unshare"),
    path("projects/<slug:slug>/agreement/", api_agreement.AgreementView.as_view(), name="api_agreement"),
    path("projects/<slug:slug>/annotators/", api_agreement.AnnotatorQualityView.as_view(), name="api_annotator_quality"),
    path("projects/<slug:slug>/annotators/<str:pseudonym>/exclude/", api_agreement.AnnotatorExcludeView.as_view(),
         name="api_annotator_exclude"),
    path("projects/<slug:slug>/annotators/<str:pseudonym>/include/", api_agreement.AnnotatorIncludeView.as_view(),
         name="api_annotator_include"),
    path("projects/<slug:slug>/items/<path:external_id>/queue/", api_agreement.ItemQueueView.as_view(),
         name="api_item_queue"),
    path("annotate/<slug:slug>/next/", api_annotate.NextView.as_view(), name="api_annotate_next"),
    path("annotate/<slug:slug>/submit/", api_annotate.SubmitView.as_view(), name="api_annotate_submit"),
    path("annotate/<slug:slug>/skip/", api_annotate.SkipView.as_view(), name="api_annotate_skip"),
]
