# Two quality migrations were written at the same time (issue 16's daily rollup, issue 15's run
# profile), each after 0004: this merges them. Commit it with 0005_quality_daily_rollup.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0005_quality_daily_rollup"),
        ("quality", "0005_run_profile"),
    ]

    operations: list[migrations.operations.base.Operation] = []
