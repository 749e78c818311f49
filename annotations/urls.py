from django.urls import include, path

from annotations import (
                         api_agreement,
                         api_annotate,
                         views,
                         views_agreement,
                         views_import,
                         views_items,
                         views_jobs,
                         views_projects,
)

urlpatterns = [
    path("p/<slug:slug>/", views.join, name="join"),
    path("annotate/<slug:slug>/", views.annotate, name="annotate"),
    path("annotate/<slug:slug>/consent/", views.annotate_consent, name="annotate_consent"),
    path("annotate/<slug:slug>/survey/", views.annotate_survey, name="annotate_survey"),
    path("annotate/<slug:slug>/instructions/", views.annotate_instructions, name="annotate_instructions"),
    path("annotate/<slug:slug>/break/", views.annotate_break, name="annotate_break"),
    path("annotate/<slug:slug>/submit/", views.annotate_submit, name="annotate_submit"),
    path("annotate/<slug:slug>/finish/", views.annotate_finish, name="annotate_finish"),
    path("projects/new/", views_projects.project_new, name="project_new"),
    path("projects/<slug:slug>/", views_projects.project_detail, name="project_detail"),
    path("projects/<slug:slug>/progress/", views_projects.project_progress, name="project_progress"),
    path("projects/<slug:slug>/edit/", views_projects.project_edit, name="project_edit"),
    path("projects/<slug:slug>/share/", views_projects.project_share, name="project_share"),
    path("projects/<slug:slug>/import/", views_import.project_import, name="project_import"),
    path("projects/<slug:slug>/items/", views_items.project_items, name="project_items"),
    path("projects/<slug:slug>/items/<int:item_id>/", views_items.project_item_preview, name="project_item_preview"),
    path("projects/<slug:slug>/items/notes.csv", views_items.project_notes_csv, name="project_notes_csv"),
    path("projects/<slug:slug>/export/", views_jobs.export_launch, name="export_launch"),
    path("projects/<slug:slug>/report/", views_jobs.agreement_report_launch, name="agreement_report_launch"),
    path("projects/<slug:slug>/crowd-ids.csv", views_projects.project_crowd_ids, name="project_crowd_ids"),
    path("api/", include("annotations.api_urls")),
]

urlpatterns += views_agreement.urlpatterns + api_agreement.urlpatterns + api_annotate.urlpatterns
