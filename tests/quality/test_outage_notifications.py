"""A warehouse outage tells each product's people once per state change, not once per run.

Issue 13: a 26 s outage sent 23 "checks failing" e-mails. Here three products are checked five
times while the warehouse is gone, then once when it is back: each product's owners and
consumers get one notice when it starts failing and one when it recovers, on every channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Consumer, Domain
from quality import services
from tests.quality.test_services import build_warehouse, make_product

pytestmark = pytest.mark.django_db


def test_an_outage_sends_one_notice_per_product_and_state_change(
    marketing: Domain, tmp_path: Path, settings: Any
) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    good_url = build_warehouse(path, newest=timezone.now(), table="t0")
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t1 AS SELECT * FROM t0")
    con.execute("CREATE TABLE t2 AS SELECT * FROM t0")
    con.close()
    products = []
    for i in range(3):
        product = make_product(
            marketing, product_id=f"marketing.p{i}", table=f"t{i}", contact=f"owner{i}@example.com"
        )
        Consumer.objects.create(
            product=product, team=f"team{i}", use_case="x", contact=f"c{i}@example.com"
        )
        products.append(product)
    settings.WAREHOUSE_URL = good_url
    for product in products:  # all green first
        assert services.check_run(product=product, trigger="schedule").status == "passed"
    mail.outbox.clear()

    settings.WAREHOUSE_URL = f"duckdb:///{tmp_path / 'gone.duckdb'}"  # the warehouse is gone
    for _ in range(5):
        for product in products:
            assert services.check_run(product=product, trigger="schedule").status == "error"
    during = list(mail.outbox)
    settings.WAREHOUSE_URL = good_url  # back
    for product in products:
        assert services.check_run(product=product, trigger="schedule").status == "passed"
    after = mail.outbox[len(during) :]

    for i in range(3):
        owner = f"owner{i}@example.com"
        assert sum(owner in m.to for m in during) == 1, [m.subject for m in during]
        assert sum(owner in m.to for m in after) == 1, [m.subject for m in after]
        assert any(f"c{i}@example.com" in m.bcc for m in during)
