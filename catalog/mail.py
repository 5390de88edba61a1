"""The portal's e-mail subjects: one line, bounded, with the portal's prefix once (issue 12).

Pure Python (no Django import), so every app's mail uses it: the catalog's consumer notices
(``catalog/services/consumers.py``) and quality's incident and check mail
(``quality/notifications.py``), which sits above the catalog and imports it from here.
"""

from __future__ import annotations

import unicodedata

SUBJECT_PREFIX = "[data portal] "
SUBJECT_MAX_LENGTH = 150


def email_subject(text: str) -> str:
    """One line, at most SUBJECT_MAX_LENGTH characters, with the portal's prefix once."""
    # Control, format (bidi overrides, zero-width) and line/paragraph separators become spaces:
    # a header must be one line, and the subject must read the way it renders.
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    cleaned = " ".join(cleaned.split())
    if cleaned.startswith(SUBJECT_PREFIX.strip()):
        cleaned = cleaned[len(SUBJECT_PREFIX.strip()) :].lstrip()
    subject = SUBJECT_PREFIX + cleaned
    if len(subject) > SUBJECT_MAX_LENGTH:
        subject = subject[: SUBJECT_MAX_LENGTH - 1].rstrip() + "\u2026"
    return subject
