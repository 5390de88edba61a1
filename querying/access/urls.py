"""Access request pages (issue 17): the inbox, and the forms the product page and the inbox
post."""

from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("", views.access_inbox, name="inbox"),
    path("products/<str:product_id>/request", views.access_request_page, name="request"),
    *(
        path(
            f"<int:request_id>/{decision}",
            views.access_decide_page,
            {"decision": decision},
            name=decision,
        )  # fmt: skip
        for decision in ("approve", "deny", "revoke", "cancel")
    ),
]
