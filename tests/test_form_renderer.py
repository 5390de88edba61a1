"""config/forms.py's renderer writes the same bytes as Django's templates, whatever the widget."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.forms.renderers import DjangoTemplates
from django.template.backends.django import DjangoTemplates as TemplateBackend
from django.utils.functional import lazy
from django.utils.safestring import SafeData, mark_safe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.forms import DJANGO_TEMPLATES, FormRenderer

FAST = FormRenderer()
TEMPLATES = DjangoTemplates()
lazy_text = lazy(lambda s: f"lazy {s}", str)


class Marked(SafeData):
    """Safe HTML that is not a string (the ``stringformat`` filter keeps it safe)."""

    def __str__(self) -> str:
        return "<em>marked</em>"


WIDGETS = [
    forms.TextInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.HiddenInput,
    forms.DateInput,
    forms.DateTimeInput,
    forms.TimeInput,
    forms.CheckboxInput,
    forms.Textarea,
    forms.Select,
    forms.SelectMultiple,
    forms.NullBooleanSelect,
    admin_widgets.AdminTextInputWidget,
    admin_widgets.AdminTextareaWidget,
    admin_widgets.AdminIntegerFieldWidget,
    admin_widgets.AdminEmailInputWidget,
    admin_widgets.AdminURLFieldWidget,
]

# Text that needs escaping, or that a careless writer would mangle.
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['"', "'", "<script>", "&amp;", "a&b", "</option>", "{{ x }}", "\x00", "é"]),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.dates(),
    st.datetimes(),
    texts,
    texts.map(mark_safe),
    texts.map(lazy_text),
    st.lists(texts, max_size=3),
    st.tuples(texts, st.integers()),
)
attr_values = st.one_of(
    st.just(True), st.just(False), st.none(), st.integers(), texts, texts.map(mark_safe)
)
attrs = st.dictionaries(
    st.one_of(st.sampled_from(["class", "id", "required", "disabled", "data-x"]), texts),
    attr_values,
    max_size=4,
)
choice = st.tuples(values, st.one_of(texts, texts.map(mark_safe), st.integers()))
choices = st.lists(
    st.one_of(choice, st.tuples(texts, st.lists(choice, min_size=1, max_size=3))), max_size=5
)


def both(widget: forms.Widget, name: str, value: Any) -> tuple[str, str]:
    return (
        widget.render(name, value, renderer=FAST),
        widget.render(name, value, renderer=TEMPLATES),
    )


def assert_same(widget: forms.Widget, name: str, value: Any) -> None:
    """The same bytes both ways, or the same error where the templates cannot render it."""
    try:
        expected = widget.render(name, value, renderer=TEMPLATES)
    except Exception as exc:
        with pytest.raises(type(exc)):
            widget.render(name, value, renderer=FAST)
        return
    assert widget.render(name, value, renderer=FAST) == expected, type(widget)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    widget_class=st.sampled_from(WIDGETS),
    name=texts,
    value=values,
    widget_attrs=attrs,
    widget_choices=choices,
)
def test_generated_widgets_render_the_same_bytes_as_the_templates(
    widget_class: type[forms.Widget],
    name: str,
    value: Any,
    widget_attrs: dict[str, Any],
    widget_choices: list[Any],
) -> None:
    widget = widget_class(attrs=widget_attrs)
    if isinstance(widget, forms.Select) and not isinstance(widget, forms.NullBooleanSelect):
        widget.choices = widget_choices
    assert_same(widget, name, value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        0,
        1.5,
        Decimal("1234.50"),
        dt.date(2026, 12, 7),
        dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC),
        mark_safe("<b>safe</b>"),
        Marked(),
        "<b>not safe</b>",
        ["a", "<b>"],
    ],
)
def test_the_classic_values_render_the_same_on_every_widget(value: Any) -> None:
    for widget_class in WIDGETS:
        widget = widget_class(
            attrs={"class": "x", "required": True, "hidden": False, "data-m": Marked()}
        )
        if isinstance(widget, forms.Select) and not isinstance(widget, forms.NullBooleanSelect):
            widget.choices = [("", "---"), ("Group", [(1, "One"), ("<", "<less>")]), (2, "Two")]
        assert_same(widget, "field", value)


def test_a_value_the_template_would_call_is_left_to_the_template() -> None:
    class Called(forms.TextInput):
        def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
            context = super().get_context(name, value, attrs)
            context["widget"]["value"] = lambda: "called"
            return context

    fast, slow = both(Called(), "field", "x")
    assert fast == slow
    assert 'value="called"' in fast


def test_an_option_with_its_own_template_is_left_to_the_templates(tmp_path: Path) -> None:
    class Fancy(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    widget = Fancy(choices=[(1, "One")])
    fast, slow = both(widget, "field", 1)
    assert fast == slow
    assert "<option" not in fast


def test_an_app_that_overrides_a_widget_template_gets_its_template(tmp_path: Path) -> None:
    folder = tmp_path / "django" / "forms" / "widgets"
    folder.mkdir(parents=True)
    (folder / "attrs.html").write_text(" data-overridden")

    class Overridden(FormRenderer):
        @cached_property
        def engine(self) -> Any:
            return TemplateBackend(
                {"APP_DIRS": True, "DIRS": [tmp_path, DJANGO_TEMPLATES], "NAME": "o", "OPTIONS": {}}
            )

    renderer = Overridden()
    assert renderer.writers == {}
    html = forms.TextInput(attrs={"class": "x"}).render("field", "v", renderer=renderer)
    assert html == '<input type="text" name="field" value="v" data-overridden>'


def test_a_django_without_one_of_the_templates_renders_the_others_as_before() -> None:
    class Missing(FormRenderer):
        def get_template(self, template_name: str) -> Any:
            if template_name.endswith("/search.html"):
                from django.template import TemplateDoesNotExist

                raise TemplateDoesNotExist(template_name)
            return super().get_template(template_name)

    renderer = Missing()
    assert "django/forms/widgets/search.html" not in renderer.writers
    assert "django/forms/widgets/text.html" in renderer.writers
    html = forms.TextInput().render("field", "v", renderer=renderer)
    assert html == '<input type="text" name="field" value="v">'


def test_error_lists_render_the_same() -> None:
    for errors in ([], ["Enter a <valid> value."], [mark_safe("<i>safe</i>")]):
        fast = forms.utils.ErrorList(errors, renderer=FAST)
        slow = forms.utils.ErrorList(errors, renderer=TEMPLATES)
        assert str(fast) == str(slow)
        assert fast.as_ul() == slow.as_ul()


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.mark.django_db
def test_admin_pages_are_byte_for_byte_the_same_with_either_renderer(
    owner: Any, admin_user: Any, marketing: Any, settings: Any
) -> None:
    """The whole product form (inlines, selects, textareas, errors) both ways."""
    from catalog.models import Domain
    from tests.factories import DataProductFactory, contract_document
    from tests.support.clients import page_client

    published_product = DataProductFactory.from_document(
        contract_document("marketing.renderer_check")
    )

    pages = [
        (owner, f"/admin/catalog/dataproduct/{published_product.pk}/change/", {}),
        (owner, "/admin/catalog/dataproduct/add/", {}),
        (admin_user, f"/admin/catalog/domain/{Domain.objects.first().pk}/change/", {}),
        (admin_user, f"/admin/accounts/user/{owner.pk}/change/", {}),
        # A form with errors: every field's error list and every widget's bad value.
        (owner, "/admin/catalog/dataproduct/add/", {"product_id": "<Bad ID>", "name": ""}),
    ]
    for user, url, data in pages:
        answers = []
        for renderer in ("config.forms.FormRenderer", "django.forms.renderers.DjangoTemplates"):
            settings.FORM_RENDERER = renderer  # Django forgets its cached default renderer
            client = page_client(user)
            response = client.post(url, data) if data else client.get(url)
            assert response.status_code == 200, url
            answers.append(CSRF.sub("", response.content.decode()))
        assert answers[0] == answers[1], url
        assert answers[0].count("<select") > 0, url
