"""Forms of the catalog pages."""

from __future__ import annotations

from django import forms


class ConsumerForm(forms.Form):
    """Register a team as a consumer of a product (same rules as the API)."""

    team = forms.CharField(max_length=200, strip=True, help_text="The team that reads the data.")
    use_case = forms.CharField(
        label="Use case",
        max_length=5000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you use it for; owners tell you about breaking changes and incidents.",
    )
    contact = forms.EmailField(
        max_length=254, help_text="An e-mail address that reaches your team."
    )
    # Issue 16: what consumes it, for lineage and impact analysis (default: the team itself).
    kind = forms.ChoiceField(
        choices=[
            ("team", "Team"),
            ("dashboard", "Dashboard"),
            ("application", "Application"),
            ("notebook", "Notebook"),
        ],
        initial="team",
        required=False,
        help_text="What uses the data; breaking changes name it.",
    )
    name = forms.CharField(
        max_length=200,
        strip=True,
        required=False,
        help_text="Its name, e.g. “Executive / CEO dashboard” (default: the team).",
    )
    url = forms.URLField(
        label="Link",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="Where to find it (optional).",
    )

    def is_valid(self) -> bool:
        """Validate; fields in error are marked for assistive technology, the first focused."""
        valid = super().is_valid()
        for index, name in enumerate(n for n in self.fields if n in self.errors):
            attrs = self.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{self[name].id_for_label}-error"
            if index == 0:
                attrs["autofocus"] = True
        return valid
