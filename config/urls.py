"""Top-level URLs: pages, admin, the /v1 API and its OpenAPI docs."""

from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.utils import translation
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import oidc
from catalog.api.views import ContractSchemaApi
from config.api import PortalAPIView


class SchemaApi(PortalAPIView, SpectacularAPIView):
    """The OpenAPI document, generated once per process (and version and language).

    The schema is public (the same for every caller) and only changes with the code, but
    drf-spectacular walks every view and serializer for each GET (~200 ms here). ``?version=``
    and ``?lang=`` take any text, so only the first few keys are kept (no memory to fill).
    """

    _generated: dict[tuple[Any, str], Any] = {}
    _KEEP = 8

    def _get_schema_response(self, request: Request) -> Response:
        if not self.serve_public:
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language())
        schema = self._generated.get(key)
        if schema is None:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            schema = generator.get_schema(request=request, public=True)
            if len(self._generated) < self._KEEP:
                self._generated[key] = schema
        filename = self._get_filename(request, version)
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )


api_patterns: list[URLPattern | URLResolver] = [
    path("contracts/schema.json", ContractSchemaApi.as_view(), name="contract-schema"),
    path("", include("catalog.api.urls")),
    path("quality/", include("quality.api.urls")),
    path("", include("querying.api.urls")),
    path("", include("querying.access.api_urls")),
    path("governance/", include("catalog.governance.api.urls")),
    path("schema/", SchemaApi.as_view(), name="schema"),
    # Swagger UI from drf-spectacular-sidecar's static files (no CDN), its start-up script
    # served by the same view (?script), so the page needs no inline script under the CSP.
    # No OPTIONS metadata: the Swagger page renders with a template OPTIONS cannot use (500).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", metadata_class=None),
        name="docs",
    ),
]

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the Swagger page).
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/login/", oidc.PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", oidc.PortalLogoutView.as_view(), name="logout"),
    # Sign-in with the company's identity provider (404 unless OIDC_ENABLED=1; issue 19).
    path("oidc/authenticate/", oidc.authenticate_view, name="oidc_authentication_init"),
    path("oidc/callback/", oidc.callback_view, name="oidc_authentication_callback"),
    path("v1/", include(api_patterns)),
    path("quality/", include("quality.urls")),
    path("query/", include("querying.urls")),
    path("access/", include("querying.access.urls")),
    path("governance/", include("catalog.governance.urls")),
    path("", include("catalog.urls")),
]

# JSON errors under /v1/ even when no view ran (unknown path, error outside a DRF view), the
# app's pages elsewhere (config/errors.py).
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
