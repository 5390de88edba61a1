"""Installs cannot drift: the lock pins every dependency exactly, with hashes (issue 20).

The governor's safety rests on how one sqlglot parses SQL and one DuckDB runs it, so these
two are pinned exactly in pyproject.toml and the lock, and the running environment must hold
exactly the pinned versions (docs/dependencies.md says how to upgrade them).
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.lockfile import (
    BASE_LOCK,
    DEV_LOCK,
    REPO,
    SPARK_LOCK,
    SPARK_SERVER_LOCK,
    logical_lines,
    parse_lock,
)

PINNED_EXACTLY = ("sqlglot", "duckdb")


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in pyproject()["project"]["dependencies"]]


def dev_requirements() -> list[Requirement]:
    return [Requirement(r) for r in pyproject()["project"]["optional-dependencies"]["dev"]]


@pytest.mark.parametrize("name", PINNED_EXACTLY)
def test_the_installed_sqlglot_and_duckdb_are_the_locked_versions(name: str) -> None:
    pinned = parse_lock(DEV_LOCK)[name].version
    assert version(name) == pinned, (
        f"{name} {version(name)} is installed but the lock pins {pinned}: run bin/setup, or "
        "follow the upgrade procedure in docs/dependencies.md"
    )


def test_the_modules_report_the_locked_versions_too() -> None:
    import duckdb
    import sqlglot

    pins = parse_lock(DEV_LOCK)
    assert sqlglot.__version__ == pins["sqlglot"].version
    assert duckdb.__version__ == pins["duckdb"].version


@pytest.mark.parametrize("name", PINNED_EXACTLY)
def test_pyproject_pins_sqlglot_and_duckdb_to_the_locked_version(name: str) -> None:
    requirement = next(r for r in runtime_requirements() if canonicalize_name(r.name) == name)
    (specifier,) = requirement.specifier
    assert specifier.operator == "=="
    assert specifier.version == parse_lock(DEV_LOCK)[name].version
    assert specifier.version == parse_lock(BASE_LOCK)[name].version


@pytest.mark.parametrize(
    "lock",
    [DEV_LOCK, BASE_LOCK, SPARK_LOCK, SPARK_SERVER_LOCK],
    ids=["dev", "base", "spark", "server"],
)
def test_every_locked_requirement_is_an_exact_version_with_hashes(lock) -> None:
    pins = parse_lock(lock)
    assert len(pins) >= (1 if lock == SPARK_SERVER_LOCK else 40)
    for pin in pins.values():
        assert pin.hashes, f"{lock.name}: {pin.name} has no --hash"
    text = lock.read_text(encoding="utf-8")
    # Installable anywhere: no local paths, mirrors or editable lines baked in.
    for line in logical_lines(text):
        assert not line.startswith(("-e", "--index-url", "--extra-index-url", "--find-links"))
        assert "file:" not in line


def test_every_range_in_pyproject_is_satisfied_by_the_lock() -> None:
    dev, base = parse_lock(DEV_LOCK), parse_lock(BASE_LOCK)
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in base and name in dev, f"{name} is not in the lock: run bin/lock"
        assert requirement.specifier.contains(base[name].version, prereleases=True), name
        for extra in requirement.extras:  # psycopg[binary] -> psycopg-binary
            assert canonicalize_name(f"{name}-{extra}") in base
    for requirement in dev_requirements():
        name = canonicalize_name(requirement.name)
        assert name in dev, f"{name} is not in requirements/dev.txt: run bin/lock"
        assert requirement.specifier.contains(dev[name].version, prereleases=True), name
    # The editable install (bin/setup) builds with the locked setuptools.
    build = [Requirement(r) for r in pyproject()["build-system"]["requires"]]
    for requirement in build:
        name = canonicalize_name(requirement.name)
        assert requirement.specifier.contains(dev[name].version), name


def test_the_image_lock_has_the_same_versions_as_the_development_lock() -> None:
    dev, base = parse_lock(DEV_LOCK), parse_lock(BASE_LOCK)
    assert set(base) <= set(dev)
    for name, pin in base.items():
        assert pin.version == dev[name].version, name
        assert set(pin.hashes) == set(dev[name].hashes), name


def test_the_spark_locks_have_the_same_versions_as_the_development_lock() -> None:
    """requirements/spark.txt (the image with PORTAL_EXTRAS=spark) is the runtime lock plus the
    spark extra; deploy/spark/requirements.txt is its pyspark alone (issue 18)."""
    dev, base, spark = parse_lock(DEV_LOCK), parse_lock(BASE_LOCK), parse_lock(SPARK_LOCK)
    assert set(base) <= set(spark) <= set(dev)
    for name, pin in spark.items():
        assert pin.version == dev[name].version, name
        assert set(pin.hashes) == set(dev[name].hashes), name
    extra = [Requirement(r) for r in pyproject()["project"]["optional-dependencies"]["spark"]]
    for requirement in extra:
        name = canonicalize_name(requirement.name)
        assert name in spark, f"{name} is not in requirements/spark.txt: run bin/lock"
        assert requirement.specifier.contains(spark[name].version, prereleases=True), name
    assert parse_lock(SPARK_SERVER_LOCK) == {"pyspark": spark["pyspark"]}


def test_the_running_environment_holds_exactly_the_locked_versions() -> None:
    wrong = {}
    for pin in parse_lock(DEV_LOCK).values():
        try:
            installed = version(pin.name)
        except PackageNotFoundError:
            installed = "missing"
        if installed != pin.version:
            wrong[pin.name] = f"{installed} (locked {pin.version})"
    assert not wrong, f"not the lock: {wrong}; bin/setup installs it"


def test_a_lock_line_without_an_exact_version_is_refused(tmp_path) -> None:
    loose = tmp_path / "loose.txt"
    loose.write_text("sqlglot>=30 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    with pytest.raises(ValueError, match="not an exact pin"):
        parse_lock(loose)
    twice = tmp_path / "twice.txt"
    twice.write_text("duckdb==2.0.1\nDuckDB==2.0.1\n")
    with pytest.raises(ValueError, match="pinned twice"):
        parse_lock(twice)
