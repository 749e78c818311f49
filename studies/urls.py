"""Study pages. Included at the site root (namespace "studies"): participant pages under /s/, researcher
pages under /studies/, and the API under /api/studies/ (studies.api_urls)."""

from django.urls import include, path

from studies import views, views_analysis, views_jobs

urlpatterns = [
    path("s/<slug:slug>/", views.join, name="join"),
    path("s/p/<str:token>/", views.participate, name="participate"),
    path("s/p/<str:token>/consent/", views.participate_consent, name="participate_consent"),
    path("s/p/<str:token>/survey/", views.participate_survey, name="participate_survey"),
    path("s/p/<str:token>/start/", views.participate_start, name="participate_start"),
    path("s/p/<str:token>/judge/", views.participate_judge, name="participate_judge"),
    path("studies/", views.study_list, name="study_list"),
    path("studies/new/", views.study_new, name="study_new"),
    path("studies/<slug:slug>/", views.study_detail, name="study_detail"),
    path("studies/<slug:slug>/toggle/", views.study_toggle, name="study_toggle"),
    path("studies/<slug:slug>/edit/", views.study_edit, name="study_edit"),
    path("studies/<slug:slug>/share/", views.study_share, name="study_share"),
    path("studies/<slug:slug>/delete/", views.study_delete, name="study_delete"),
    path("studies/<slug:slug>/report/", views_jobs.study_report_launch, name="study_report_launch"),
    path("studies/<slug:slug>/export/", views_jobs.preference_export_launch, name="preference_export_launch"),
    path("studies/<slug:slug>/results/", views_analysis.study_results, name="study_results"),
    path("studies/<slug:slug>/results/export/", views_analysis.study_results_export, name="study_results_export"),
    path("studies/<slug:slug>/plan/", views_analysis.study_plan_page, name="study_plan"),
    path("api/studies/", include("studies.api_urls")),
]

