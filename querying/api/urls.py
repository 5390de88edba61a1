from django.urls import path

from . import views

app_name = "querying-api"

urlpatterns = [
    path("query", views.QueryRunApi.as_view(), name="query"),
    path("query.csv", views.QueryRunApi.as_view(), {"format": "csv"}, name="query-csv"),
    path("query/log", views.QueryLogListApi.as_view(), name="query-log"),
]
