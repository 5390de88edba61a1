from django.urls import path

from . import catalog, saved, views

app_name = "querying-api"

urlpatterns = [
    path("query", views.QueryRunApi.as_view(), name="query"),
    path("query.csv", views.QueryRunApi.as_view(), {"format": "csv"}, name="query-csv"),
    path("query/log", views.QueryLogListApi.as_view(), name="query-log"),
    path("query/catalog", catalog.QueryCatalogApi.as_view(), name="query-catalog"),
    path("queries", saved.SavedQueryListApi.as_view(), name="saved-queries"),
    path("queries/<int:pk>", saved.SavedQueryDetailApi.as_view(), name="saved-query"),
    path("queries/<int:pk>/run", saved.SavedQueryRunApi.as_view(), name="saved-query-run"),
]
