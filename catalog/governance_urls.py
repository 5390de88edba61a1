from django.urls import path  # noqa: F401

app_name = "governance"

# Pages under /governance/ ; the API routes live in ``api_urlpatterns`` (mounted under /v1/).
urlpatterns: list = []
api_urlpatterns: list = []
