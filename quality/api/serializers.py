"""Output shapes for quality: runs and results in camelCase (the seed's ``checkName``...)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from quality.models import CheckResult, CheckRun, Incident


class CheckResultSerializer(serializers.ModelSerializer):
    checkName = serializers.CharField(source="check_name")
    type = serializers.CharField(source="check_type")
    checkedAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = CheckResult
        fields = [
            "checkName",
            "type",
            "status",
            "passed",
            "severity",
            "message",
            "value",
            "checkedAt",
        ]


class CheckRunSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.product_id")
    startedAt = serializers.DateTimeField(source="started_at")
    finishedAt = serializers.DateTimeField(source="finished_at")
    durationMs = serializers.FloatField(source="duration_ms")
    tableReachable = serializers.BooleanField(source="table_reachable", allow_null=True)
    contractVersion = serializers.IntegerField(source="contract_version", allow_null=True)
    results = serializers.SerializerMethodField()

    class Meta:
        model = CheckRun
        fields = [
            "id", "product", "trigger", "status", "startedAt", "finishedAt", "durationMs",
            "tableReachable", "contractVersion", "results",
        ]  # fmt: skip

    def get_results(self, run: CheckRun) -> list[dict[str, Any]]:
        rows = sorted(run.results.all(), key=lambda r: r.position)
        return CheckResultSerializer(rows, many=True).data  # type: ignore[return-value]


class IncidentSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.product_id")
    openedAt = serializers.DateTimeField(source="opened_at")
    resolvedAt = serializers.DateTimeField(source="resolved_at")

    class Meta:
        model = Incident
        fields = [
            "id",
            "product",
            "kind",
            "status",
            "openedAt",
            "resolvedAt",
            "message",
            "resolution",
        ]
