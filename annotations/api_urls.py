from django.urls import path

from annotations import api

urlpatterns = [
    path("projects/", api.ProjectListView.as_view(), name="api-projects"),
    path("projects/<slug:slug>/", api.ProjectDetailView.as_view(), name="api-project"),
    path("projects/<slug:slug>/progress/", api.ProjectProgressView.as_view(), name="api-project-progress"),
    path("projects/<slug:slug>/items/", api.ItemImportView.as_view(), name="api-project-items"),
    path("projects/<slug:slug>/labels/", api.LabelImportView.as_view(), name="api-project-labels"),
    path("projects/<slug:slug>/labels/export/", api.LabelExportView.as_view(), name="api-project-export"),
    path("projects/<slug:slug>/share/", api.ProjectShareView.as_view(), name="api-project-share"),
    path("projects/<slug:slug>/share/<str:username>/", api.ProjectUnshareView.as_view(), name="api-project-unshare"),
]
