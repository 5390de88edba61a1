"""Read the lock files (requirements/*.txt, written by bin/lock). No Django import."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
DEV_LOCK = REPO / "requirements" / "dev.txt"
BASE_LOCK = REPO / "requirements" / "base.txt"
# The image with PORTAL_EXTRAS=spark, and compose's Spark Connect server (issue 18).
SPARK_LOCK = REPO / "requirements" / "spark.txt"
SPARK_SERVER_LOCK = REPO / "deploy" / "spark" / "requirements.txt"
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Pin:
    """One locked requirement: an exact version and the hashes of its files."""

    name: str  # canonical (PEP 503) name
    version: str
    hashes: tuple[str, ...]
    marker: str


def logical_lines(text: str) -> list[str]:
    """The file's requirement lines, continuation backslashes joined, comments dropped."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse_lock(path: Path) -> dict[str, Pin]:
    """``{canonical name: Pin}``; raises ValueError on a line that is not ``name==version``."""
    pins: dict[str, Pin] = {}
    for line in logical_lines(path.read_text(encoding="utf-8")):
        words = line.split()
        spec = " ".join(w for w in words if not w.startswith("--hash="))
        hashes = tuple(m.group(1) for w in words if (m := _HASH.match(w)))
        requirement = Requirement(spec)
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or requirement.url:
            raise ValueError(f"{path.name}: not an exact pin: {spec!r}")
        name = canonicalize_name(requirement.name)
        if name in pins:
            raise ValueError(f"{path.name}: {name} is pinned twice")
        pins[name] = Pin(
            name=name,
            version=specifiers[0].version,
            hashes=hashes,
            marker=str(requirement.marker or ""),
        )
    return pins
