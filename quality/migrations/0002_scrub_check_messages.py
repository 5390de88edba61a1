"""Clean check messages stored before issue 21: no data may remain in a check result.

Custom checks used to echo up to 57 characters of what their SQL returned, and errors kept the
warehouse's text in full (which quotes the value a cast choked on). Custom check results are
rewritten from their number, as the portal writes them now; error messages of every check type
(and of runs) are scrubbed like governed-query errors and bounded.
"""

from __future__ import annotations

from django.db import migrations

MAX_CHARS = 300


def _scrub(text: str) -> str:
    from querying.governor import scrub_error

    cleaned = scrub_error(text)
    return cleaned if len(cleaned) <= MAX_CHARS else cleaned[: MAX_CHARS - 1] + "…"


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def clean(apps, schema_editor):  # noqa: ANN001 - the migration signature
    CheckResult = apps.get_model("quality", "CheckResult")
    CheckRun = apps.get_model("quality", "CheckRun")
    for result in CheckResult.objects.filter(check_type="custom_sql").iterator():
        if result.status == "passed" and result.value is not None:
            message = "custom SQL counted 0 rows"
        elif result.status == "failed" and result.value is not None:
            message = f"custom SQL counted {_count(result.value)} rows, expected 0"
        elif "returned" in result.message and "not a number" in result.message:
            message = "custom checks return a single count: this one returned something else"
        else:
            message = _scrub(result.message)
        if message != result.message:
            CheckResult.objects.filter(pk=result.pk).update(message=message)
    for result in CheckResult.objects.filter(status="error").exclude(check_type="custom_sql"):
        message = _scrub(result.message)
        if message != result.message:
            CheckResult.objects.filter(pk=result.pk).update(message=message)
    for run in CheckRun.objects.exclude(message=""):
        message = _scrub(run.message)
        if message != run.message:
            CheckRun.objects.filter(pk=run.pk).update(message=message)


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]

    operations = [migrations.RunPython(clean, migrations.RunPython.noop)]
