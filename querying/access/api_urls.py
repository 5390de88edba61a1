"""``/v1/access-requests``: ask for raw access, read and decide requests (issue 17)."""

from django.urls import path

from . import api

app_name = "access-api"

urlpatterns = [
    path("access-requests", api.AccessRequestListApi.as_view(), name="requests"),
    path("access-requests/<int:request_id>", api.AccessRequestApi.as_view(), name="request"),
    path(
        "access-requests/<int:request_id>/approve",
        api.AccessRequestApproveApi.as_view(),
        name="approve",
    ),
    path("access-requests/<int:request_id>/deny", api.AccessRequestDenyApi.as_view(), name="deny"),
    path(
        "access-requests/<int:request_id>/revoke",
        api.AccessRequestRevokeApi.as_view(),
        name="revoke",
    ),
    path(
        "access-requests/<int:request_id>/cancel",
        api.AccessRequestCancelApi.as_view(),
        name="cancel",
    ),
]
