"""The query page's editor form."""

from __future__ import annotations

from django import forms

from querying.governor import MAX_SQL_CHARS


class QueryForm(forms.Form):
    """One SQL statement to run (or download as CSV)."""

    sql = forms.CharField(
        label="SQL",
        max_length=MAX_SQL_CHARS,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "spellcheck": "false",
                "autocomplete": "off",
                "autocapitalize": "off",
                "class": "sql-editor",
                "aria-describedby": "sql-help",
            }
        ),
    )
