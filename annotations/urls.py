"""Annotation pages (namespace "annotations", included at the site root): annotators' pages under /p/ and
/annotate/, researchers' pages under /projects/, and the API under /api/ (annotations.api_urls)."""

from django.urls import include, path

from annotations import views, views_agreement, views_import, views_items, views_jobs, views_projects

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
    path("projects/<slug:slug>/delete/", views_projects.project_delete, name="project_delete"),
    path("projects/<slug:slug>/import/", views_import.project_import, name="project_import"),
    path("projects/<slug:slug>/items/", views_items.project_items, name="project_items"),
    path("projects/<slug:slug>/items/<int:item_id>/", views_items.project_item_preview, name="project_item_preview"),
    path("projects/<slug:slug>/items/notes.csv", views_items.project_notes_csv, name="project_notes_csv"),
    path("projects/<slug:slug>/export/", views_jobs.export_launch, name="export_launch"),
    path("projects/<slug:slug>/report/", views_jobs.agreement_report_launch, name="agreement_report_launch"),
    path("projects/<slug:slug>/crowd-ids.csv", views_projects.project_crowd_ids, name="project_crowd_ids"),
    # Agreement: the table and plots, annotator quality (with exclusion) and the most disputed items (with
    # re-queuing). The queue route comes before the item route: <path:> would swallow its "/queue/".
    path("projects/<slug:slug>/agreement/", views_agreement.agreement_page, name="agreement_page"),
    path("projects/<slug:slug>/agreement/items/<path:external_id>/queue/", views_agreement.item_queue_view,
         name="agreement_item_queue"),
    path("projects/<slug:slug>/agreement/items/<path:external_id>/", views_agreement.item_read,
         name="agreement_item"),
    path("projects/<slug:slug>/agreement/annotators/<str:pseudonym>/exclude/", views_agreement.annotator_exclude_view,
         name="agreement_annotator_exclude"),
    path("projects/<slug:slug>/agreement/annotators/<str:pseudonym>/include/", views_agreement.annotator_include_view,
         name="agreement_annotator_include"),
    path("api/", include("annotations.api_urls")),
]
