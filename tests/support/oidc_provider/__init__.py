"""A real OpenID Connect provider for the sign-in tests (issue 19): django-oauth-toolkit's, in
a small Django project of its own, served in a second process by ``serve.py``."""
