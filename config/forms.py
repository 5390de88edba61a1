"""The form renderer: Django's own, with its five basic widget templates written out in Python.

An admin product form renders ~300 widgets and options, and Django's template engine spent
~40 % of each admin answer on them (a template, two includes and an ``attrs`` loop per
``<input>`` or ``<option>``). :class:`FormRenderer` writes the same bytes for ``input.html`` (and
the templates that only include it: text, number, e-mail, URL, password, hidden, checkbox...),
``select.html`` with ``select_option.html``, and ``textarea.html``, with the template engine's own
helpers for every value (``render_value_in_context``: localisation and escaping; the
``stringformat`` filter). Anything else, or anything unusual (a callable value, an option with
its own template, an app that overrides one of these templates), goes to the templates as
before. tests/test_form_renderer.py renders generated widgets and whole admin pages both ways
and compares the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import django
from django.forms.renderers import DjangoTemplates
from django.template import TemplateDoesNotExist
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
OPTION = WIDGETS + "select_option.html"
# Django's own widget templates: a template of this name found anywhere else is an override.
DJANGO_TEMPLATES = Path(django.__file__).resolve().parent / "forms" / "templates"
# The templates whose whole text is `{% include "django/forms/widgets/input.html" %}`.
INPUT_ALIASES = (
    "checkbox",
    "color",
    "date",
    "datetime",
    "email",
    "file",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
)


class _Context:
    """What ``render_value_in_context`` reads of the template context a renderer makes."""

    autoescape = True
    use_l10n = None
    use_tz = None


_CONTEXT: Any = _Context()


def _shown(value: object) -> str:
    """``{{ value }}``."""
    return str(render_value_in_context(value, _CONTEXT))


def _formatted(value: object) -> str:
    """``{{ value|stringformat:'s' }}`` (the filter keeps a safe input safe)."""
    text = stringformat(value, "s")
    if isinstance(value, SafeData):
        text = mark_safe(text)  # noqa: S308 - the template engine does the same (is_safe=True)
    return _shown(text)


def _attrs(attrs: Mapping[str, object]) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        shown = _shown(name)
        out.append(f" {shown}" if value is True else f' {shown}="{_formatted(value)}"')
    return "".join(out)


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value != None else ""  # noqa: E711 - as the template
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _select(widget: Mapping[str, Any]) -> str:
    out = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_shown(group_name)}">')
        out.extend(
            f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_shown(option['label'])}</option>\n"
            for option in group_choices
        )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _textarea(widget: Mapping[str, Any]) -> str:
    value = _shown(widget["value"]) if widget["value"] else ""
    attrs = _attrs(widget["attrs"])
    return f'<textarea name="{_shown(widget["name"])}"{attrs}>\n{value}</textarea>'


def _plain(widget: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    """No value the template engine would call or look up differently than a dict read."""
    if any(callable(widget.get(key)) for key in keys):
        return False
    attrs = widget.get("attrs")
    return (
        isinstance(attrs, dict)
        and "items" not in attrs  # `attrs.items` in a template reads that key first
        and not any(callable(v) for v in attrs.values())
    )


def _plain_select(widget: Mapping[str, Any]) -> bool:
    if not _plain(widget, ("name",)):
        return False
    for group_name, group_choices, _index in widget["optgroups"]:
        if callable(group_name):
            return False
        for option in group_choices:
            if option.get("template_name") != OPTION or not _plain(option, ("value", "label")):
                return False
    return True


Writer = Callable[[Mapping[str, Any]], str]
Test = Callable[[Mapping[str, Any]], bool]


def _widget(write: Writer, plain: Test) -> tuple[Writer, Test]:
    """A writer of ``context["widget"]``, for contexts whose widget is a plain dict."""

    def test(context: Mapping[str, Any]) -> bool:
        widget = context.get("widget")
        return isinstance(widget, dict) and plain(widget)

    return lambda context: write(context["widget"]), test


def _plain_input(widget: Mapping[str, Any]) -> bool:
    return _plain(widget, ("type", "name", "value"))


def _plain_textarea(widget: Mapping[str, Any]) -> bool:
    return _plain(widget, ("name", "value"))


def _no_errors(context: Mapping[str, Any]) -> bool:
    """An empty error list, which every field of an admin form renders: the template writes
    nothing (`{% if errors %}...{% endif %}`); a list with errors goes to the template."""
    errors = context.get("errors")
    return isinstance(errors, list) and not errors and not callable(errors)


ERRORS = "django/forms/errors/list/"
_WRITERS: dict[str, tuple[Writer, Test]] = {
    WIDGETS + "input.html": _widget(_input, _plain_input),
    WIDGETS + "select.html": _widget(_select, _plain_select),
    WIDGETS + "textarea.html": _widget(_textarea, _plain_textarea),
    **{f"{WIDGETS}{alias}.html": _widget(_input, _plain_input) for alias in INPUT_ALIASES},
    ERRORS + "ul.html": (lambda context: "", _no_errors),
    ERRORS + "default.html": (lambda context: "", _no_errors),
}
# The templates each writer stands for, besides its own name.
_ALSO_READ = (WIDGETS + "attrs.html", WIDGETS + "input.html", OPTION, ERRORS + "ul.html")


class FormRenderer(DjangoTemplates):
    """Django's template renderer, writing its basic widgets in Python (the same bytes)."""

    @cached_property
    def writers(self) -> dict[str, tuple[Writer, Test]]:
        """The writers whose templates (and what they include) are Django's own here."""
        if not all(self._is_djangos(name) for name in _ALSO_READ):
            return {}
        return {name: pair for name, pair in _WRITERS.items() if self._is_djangos(name)}

    def _is_djangos(self, name: str) -> bool:
        try:
            origin = self.get_template(name).origin.name
        except TemplateDoesNotExist:  # a Django without it: nothing to stand for
            return False
        return Path(origin).resolve().is_relative_to(DJANGO_TEMPLATES)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        pair = self.writers.get(template_name) if request is None else None
        if pair is not None:
            write, plain = pair
            if plain(context):
                return write(context)
        return str(super().render(template_name, context, request))
