"""Global governance policies: naming, required metadata, PII handling, required checks.

Pure Python: no Django import. The contract module says what a *valid* contract is; this module
says what a *good* one is, as the platform defines it. Each policy has a key, a title and a
description (shown on the governance page) and a default severity:

- ``error``: publishing is refused;
- ``warning``: publishing goes ahead, the owner is told;
- ``off``: not evaluated.

Federated governance: the platform's rules are global; a domain may make them stricter
(``merge_rules``: warning → error, off → on, a lower PII threshold...), never looser.

Invariant, tested: under ``DEFAULT_POLICIES`` the write-up's example contract
(marketing.campaign_attribution) has no error, only warnings for what it lacks.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.contract import ID_RE, Contract
from catalog.contract.vocabulary import ProductStatus, Severity

SEVERITY_LEVELS = ("off", "warning", "error")
_RANK = {s: i for i, s in enumerate(SEVERITY_LEVELS)}


@dataclass(frozen=True)
class PolicyRule:
    """One policy switched to a severity, with its parameters."""

    key: str
    severity: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)

    def to_dict(self) -> dict[str, Any]:
        """``{"key", "severity", "params"}``: the JSON shape stored on a domain."""
        return {"key": self.key, "severity": self.severity, "params": dict(self.params)}


@dataclass(frozen=True)
class Violation:
    """A contract breaking a policy: which one, where, why, how bad."""

    policy: str
    path: str
    message: str
    severity: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message} [{self.policy}]"

    def to_dict(self) -> dict[str, str]:
        """JSON shape for the API, the CLI and the publish refusal."""
        return {
            "policy": self.policy,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


# An evaluator returns (path, message) pairs; evaluate_policies adds the key and the severity.
Evaluator = Callable[
    [Contract, Mapping[str, Any], Mapping[str, Sequence[object]]], list[tuple[str, str]]
]
Combiner = Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class PolicyDefinition:
    """What a policy checks, for the governance page, and how a domain may tighten it."""

    key: str
    title: str
    description: str
    default_severity: str
    default_params: Mapping[str, Any]
    evaluate: Evaluator = field(repr=False, compare=False)
    # How global and domain params combine into the stricter set. None: the domain's params
    # are ignored while the global rule is on (they only apply when the platform has it off).
    tighten: Combiner | None = field(default=None, repr=False, compare=False)


# ---------------------------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------------------------

SNAKE_CASE_RE = r"^[a-z][a-z0-9_]*$"

# Words PostgreSQL, DuckDB or ANSI SQL reserve: as column names they need quoting everywhere
# and break hand-written SQL. Type names (date, time, timestamp) and other non-reserved
# keywords are deliberately absent; they work unquoted in both warehouses.
SQL_RESERVED_WORDS = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization between binary both case
    cast check collate column concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default deferrable
    desc distinct do else end except false fetch for foreign freeze from full grant group having
    ilike in initially inner intersect into is isnull join lateral leading left like limit
    localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary qualify references returning right select session_user similar some
    symmetric table tablesample then to trailing true union unique user using variadic verbose
    when where window with pivot unpivot over partition range rows groups exists values delete
    insert update drop alter
    """.split()
)


def _naming_product_id(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    pattern = params.get("pattern", ID_RE)
    if not re.match(pattern, contract.id):
        return [("id", f"product id {contract.id} does not match {pattern}")]
    return []


def _naming_columns(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    pattern = re.compile(params.get("pattern", SNAKE_CASE_RE))
    return [
        (f"schema[{i}].column", f"column {col.column} is not snake_case ({pattern.pattern})")
        for i, col in enumerate(contract.schema)
        if not pattern.match(col.column)
    ]


def _naming_reserved(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    words = SQL_RESERVED_WORDS | {w.lower() for w in params.get("extra_words", ())}
    return [
        (
            f"schema[{i}].column",
            f"column {col.column} is an SQL reserved word; rename it (e.g. {col.column}_value)",
        )
        for i, col in enumerate(contract.schema)
        if col.column.lower() in words
    ]


def _union_words(
    global_params: Mapping[str, Any], domain_params: Mapping[str, Any]
) -> dict[str, Any]:
    words = list(global_params.get("extra_words", ()))
    words += [w for w in domain_params.get("extra_words", ()) if w not in words]
    return {**global_params, "extra_words": words}


# ---------------------------------------------------------------------------------------------
# Required metadata
# ---------------------------------------------------------------------------------------------


def _product_description(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    min_length = int(params.get("min_length", 1))
    if len(contract.description.strip()) < min_length:
        if min_length <= 1:
            return [("description", "the product needs a description")]
        return [("description", f"the description needs at least {min_length} characters")]
    return []


def _longer_min_length(
    global_params: Mapping[str, Any], domain_params: Mapping[str, Any]
) -> dict[str, Any]:
    length = max(int(global_params.get("min_length", 1)), int(domain_params.get("min_length", 1)))
    return {**global_params, "min_length": length}


def _column_descriptions(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    return [
        (f"schema[{i}].description", f"column {col.column} has no description")
        for i, col in enumerate(contract.schema)
        if not col.description.strip()
    ]


def _owner_contact(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    if not contract.owner.contact.strip():
        return [("owner.contact", "the owner needs a contact e-mail address")]
    return []


def _owner_slack(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    channel = contract.owner.slack_channel.strip()
    if not channel:
        return [("owner.slackChannel", "the owner needs a Slack channel for consumers' questions")]
    if not channel.startswith("#"):
        return [("owner.slackChannel", f"Slack channel {channel} should start with #")]
    return []


def _tags(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    if not contract.tags:
        return [("tags", "add at least one tag so the product can be found in the catalog")]
    return []


# ---------------------------------------------------------------------------------------------
# PII
# ---------------------------------------------------------------------------------------------

# Column-name patterns over the lowercased name. Personal-data nouns are the *head* of a name
# (``customer_email``, ``billing_address_line_1``), so patterns are anchored at the end:
# ``email_campaign_id`` is a campaign id, not an e-mail address. First match wins (IP before
# postal address, so ``ip_address`` is named right).
_END = r"(_?\d+)?$"
PII_NAME_PATTERNS: dict[str, str] = {
    "e-mail address": r"(^|_)(e_?mail|mail|e_?mail_address|mail_address|e_?mail_addr)" + _END,
    "phone number": (
        r"(^|_)(phone|phone_number|phone_no|mobile|mobile_number|mobile_phone|msisdn|"
        r"telephone|tel|fax|cell_phone)" + _END
    ),
    "person's name": (
        r"(^|_)((first|last|full|given|family|middle|maiden|customer|user|person|contact|"
        r"display|legal|nick|sur|sender|recipient|holder|cardholder)_?name|"
        r"firstname|lastname|fullname|surname)" + _END
    ),
    "IP address": r"(^|_)(ip|ipv4|ipv6|ip_address|ip_addr|remote_addr)" + _END,
    "postal address": (
        r"(^|_)(address|address_line|street|street_address|postcode|postal_code|zip|zipcode|"
        r"zip_code)" + _END
    ),
    "birth date": r"(^|_)(dob|birthday|birthdate|birth_date|date_of_birth|born_at|born_on)" + _END,
    "person identifier": (
        r"(^|_)(user|customer|member|person|subscriber|patient|employee|visitor|buyer|shopper|"
        r"client)_?(id|uuid|key|number|no)" + _END
    ),
    "payment or account number": (
        r"(^|_)((card|cc|credit_card|debit_card|bank_account|account|routing)_?"
        r"(number|no|num|nr)|iban|pan|credit_card|card_number)" + _END
    ),
    "government identifier": (
        r"(^|_)(ssn|social_security_number|passport|passport_number|national_id|tax_id|nin|"
        r"driver_license|drivers_license|driving_licence)" + _END
    ),
}
_PII_NAME_RES = {category: re.compile(rx) for category, rx in PII_NAME_PATTERNS.items()}


def pii_category_for_name(column: str) -> str | None:
    """The kind of personal data a column name suggests, or None."""
    name = column.lower()
    for category, rx in _PII_NAME_RES.items():
        if rx.search(name):
            return category
    return None


_EMAIL_VALUE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# International (+…) or with separators, 7–15 digits: bare digit strings are far more often
# ids or amounts than phone numbers, so they are not counted.
_PHONE_VALUE = re.compile(r"^\+?[\d\s().-]+$")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_CARD_VALUE = re.compile(r"^\d(?:[ -]?\d){12,18}$")
_IBAN_VALUE = re.compile(r"^[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}$")


def luhn_ok(digits: str) -> bool:
    """Luhn checksum, as used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def pii_category_for_value(value: object) -> str | None:
    """The kind of personal data one sampled value looks like, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not 5 <= len(text) <= 254:
        return None
    if _EMAIL_VALUE.match(text):
        return "e-mail address"
    if _IBAN_VALUE.match(text) and iban_ok(text):
        return "IBAN"
    if _CARD_VALUE.match(text):
        digits = re.sub(r"[ -]", "", text)
        if luhn_ok(digits):
            return "payment card number"
    if ("." in text or ":" in text) and _is_ip(text):
        return "IP address"
    if _looks_like_phone(text):
        return "phone number"
    if looks_like_postal_address(text):
        return "postal address"
    if looks_like_personal_name(text):
        return "person's name"
    return None


# --- Free text: personal names and postal addresses --------------------------------------------
#
# Both detectors aim at few false positives: a column is flagged only when most of its sampled
# values match (``threshold``), and each value must match a shape people's names and addresses
# have and city, product or campaign names do not. A name starts with a known given name (or
# is "Last, First") and has no digits; an address has a house number and a street-type word in
# the places an address puts them. Values are compared after NFKD without accents, casefolded:
# they are data, not SQL names.

# Common given names across languages (the first token of "First Last").
GIVEN_NAMES = frozenset(
    """
    aaliyah aaron abdul abdullah abigail abraham ada adam adrian adriana agnes ahmed ahmad aiden
    aisha akira alan albert alberto aleksandr alejandro alessandro alex alexander alexandra
    alexis alfredo ali alice alicia alina alison amanda amara amelia amir amy ana anastasia
    andrea andreas andrei andrew andres angela angelo anita ann anna anne annie anthony antoine
    antonio anya arjun arnav aryan asha ashley astrid aurora ava axel ayesha barbara beatriz
    ben benjamin bernard beth betty bianca bill bob boris brandon brian bridget bruno caitlin
    camila carl carla carlos carmen carol caroline carolyn catherine cecilia charles charlie
    charlotte chen chiara chloe chris christian christina christine christopher claire clara
    claudia colin connor craig cynthia daniel daniela danielle david deborah deepak denise
    dennis diana diego dimitri dmitri donald donna dorothy douglas dylan edward elena eli elias
    elif elijah elizabeth ella ellen elsa emily emma emil emilia emre eric erik erin ethan
    eva evelyn fatima felipe felix fernando finn fiona francesca francesco francisco frank
    freya gabriel gabriela gary george georgia gerald gianluca gina giovanni giulia giuseppe
    grace greg gregory gustavo hamza hana hannah hans harper harry hassan heather hector helen
    helena henrik henry hiroshi hugo ian ibrahim ida igor ines ingrid irene isabel isabella
    isla ivan jack jacob jake james jamie jan jane janet janice jasmine jason javier jean jeff
    jeffrey jennifer jeremy jerry jessica jesus jin joan joanna joao joe johan johannes john
    jonas jonathan jorge jose joseph joshua juan judith julia julian julie julien jun justin
    kai karen karin karl kate katherine kathleen kathryn katie kavya keith kelly kenji kenneth
    kevin kim kimberly kofi kristen kwame kyle lara larissa laura lauren lea leila lena leo leon
    leonardo liam lily linda lisa liu lorenzo louis louise lucas lucia luis luka luke lukas
    maja manuel marc marco margaret maria mariam marie marina mario mark marta martha martin
    mary mateo matteo matthew maya mehmet melissa mia michael michelle miguel mikhail mila
    mohamed mohammed muhammad nadia naomi natalia natalie nathan nicholas nicole nikita nikolai
    nina noah noor nora oliver olivia olga omar oscar pablo pamela patricia patrick paul paula
    pedro peter philip pierre pooja priya rachel rafael rahul raj rajesh ramon raquel ravi
    rebecca ricardo richard rita robert roberto robin roger rohan ronald rosa rose ruth ryan
    sabrina sakura samantha samuel sandra santiago sara sarah scott sean sebastian sergei
    sergio shanti sharon shirley simon simone sofia sophia sophie stefan stephanie stephen
    steven susan svetlana takeshi tamara tanvi tariq teresa thomas tiffany timothy tom tomas
    tyler valentina valeria vanessa victor victoria vikram vincent virginia walter wei wendy
    william xavier xin yan yara yasmin yuki yusuf yuto zainab zara zoe
    abena adebayo adriana aditya agata akosua alberto aleksandra alfie amit ananya andile
    anders andrzej aneta anil ann-marie ava-grace ayumi baraka bjorn brenda bruce carlota
    catalina chidi chinedu chinonso cristina dana darius dariusz dawit deepika dina dolores
    dominik donna doris edith eduardo elif emeka esther ewa fabian fatuma femi florian
    francois gaurav gemma gloria gordon haruto hiroko holly hye-jin ifeoma ikechukwu inga
    irina ivana jakub janelle jia jiho joanne jorgen joyce juliana jurgen kamala karim kasia
    katarzyna kemal kerstin kiran kirsten klaus krzysztof lakshmi lars lauri li lin lina
    lindiwe lorena lucy lwazi magnus mai malik marcel margarita mariana marisol marta maurice
    meera mei mercy min-jun minh mira mohan monika nancy nanami neha niamh nikos nkechi
    nomvula nuno obinna oksana olumide otto paolo parisa pavel petra pham pieter piotr rania
    reza rhys riya rui ruth sakshi salma sana sanjay seo-yeon shira siddharth signe sina
    siobhan siti sunita sven tatiana tendai thabo thandiwe tiago timo tomasz ulrike umar
    uwe valentin vera viktor wanjiru wojciech xiao yasmine yoko yong yosef yuri zofia
    """.split()
)

# Words that end place, business and product names, never a surname ("Victoria Station").
_NOT_SURNAMES = frozenset(
    """
    street avenue road lane drive station square city county bay lake river beach hills
    heights springs falls valley island islands hotel mall center centre plaza airport
    bridge tower church hospital school university college sale sales promo campaign launch
    edition series collection bundle pack plus pro max mini day days week weekend month year
    special deal deals offer event festival award awards inc ltd llc gmbh co corp company group
    team club cafe restaurant bar shop store market studio lab labs fund foundation project
    """.split()
)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"})
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "del", "della", "da", "di", "du",
                        "la", "le", "bin", "binti", "ibn", "al", "el", "y"})  # fmt: skip
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def _plain(word: str) -> str:
    """Casefolded, without accents (Zoë → zoe): how name lists are compared."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _name_words(part: str, *, any_case: bool) -> list[str] | None:
    """The words of a name part, or None when one is not shaped like a name word."""
    words = part.split()
    for word in words:
        if len(word) == 2 and word[0].isupper() and word[1] == ".":
            continue  # an initial: "John F. Kennedy"
        if not _NAME_WORD.fullmatch(word):
            return None
        if not (any_case or word[0].isupper() or _plain(word) in _PARTICLES):
            return None
    return words


def looks_like_personal_name(text: str) -> bool:
    """ "Olivia Smith", "Dr. Mateo García Lopez", "Smith, Olivia": a person's name."""
    if any(ch.isdigit() for ch in text) or any(ch in text for ch in "@/:;|()[]{}&+#"):
        return False
    if text.count(",") > 1:
        return False
    head, _, tail = text.partition(" ")
    if tail and _plain(head).rstrip(".") in _HONORIFICS:
        text = tail.strip()
    any_case = text.islower() or text.isupper()  # "olivia smith", "OLIVIA SMITH"
    if "," in text:  # "Last, First [Middle]"
        last, first = (p.strip() for p in text.split(","))
        last_words = _name_words(last, any_case=any_case)
        first_words = _name_words(first, any_case=any_case)
        if not last_words or not first_words or len(last_words) > 2 or len(first_words) > 2:
            return False
        words = [*first_words, *last_words]
    else:
        found = _name_words(text, any_case=any_case)
        if found is None:
            return False
        words = found
    if not 2 <= len(words) <= 4:
        return False
    if _plain(words[-1]) in _NOT_SURNAMES:
        return False
    return _plain(words[0]).split("-")[0] in GIVEN_NAMES  # "Jean-Luc" counts as "Jean"


_STREET_TYPES = frozenset(
    """
    street st avenue ave av road rd lane ln drive dr boulevard blvd court ct place pl square sq
    terrace ter way row parkway pkwy highway hwy circle cir close crescent cres alley walk mews
    grove gardens gdns trail trl
    """.split()
)
# Street-type words written first ("12 rue de Rivoli", "Via Roma 10", "Calle Mayor 5").
_STREET_TYPES_FIRST = frozenset(
    "rue avenue av boulevard bd chemin allee impasse quai via viale piazza corso calle avenida "
    "rua praca ulica ul plaza".split()
)
# Compound endings of continental street names ("Hauptstraße 5", "Keizersgracht 123").
_STREET_SUFFIXES = (
    "strasse", "straße", "str.", "weg", "gasse", "platz", "allee", "damm", "ufer", "laan",
    "straat", "gracht", "plein", "kade", "vej", "gade", "gatan", "vagen", "veien", "gata",
)  # fmt: skip
_UNIT_WORDS = frozenset(
    "# apt apartment suite ste unit fl floor flat n s e w ne nw se sw north south east west".split()
)
_HOUSE_NUMBER = re.compile(r"\d{1,6}[a-z]?(?:[-/]\d{1,6}[a-z]?)?")
_PO_BOX = re.compile(r"p\.?\s?o\.?\s+box\s+\d{1,7}")


def looks_like_postal_address(text: str) -> bool:
    """ "1234 Maple Street, Springfield", "Hauptstraße 5, 10115 Berlin": a street address."""
    line = _plain(text.split(",", 1)[0]).strip()
    if _PO_BOX.match(line):
        return True
    words = [w.rstrip(".") if w not in ("str.",) else w for w in line.split()]
    if len(words) < 2 or len(words) > 9:
        return False
    if _HOUSE_NUMBER.fullmatch(words[0]):
        rest = words[1:]
        if rest[0] in _STREET_TYPES_FIRST and len(rest) >= 2:  # "12 rue de Rivoli"
            return all(not w.isdigit() for w in rest[1:])
        for i, word in enumerate(rest):
            if i >= 1 and word in _STREET_TYPES:  # "1234 Maple Street [Apt 5]"
                tail = rest[i + 1 :]
                return all(w in _UNIT_WORDS or _HOUSE_NUMBER.fullmatch(w.lstrip("#")) for w in tail)
        return False
    if _HOUSE_NUMBER.fullmatch(words[-1]):
        name = words[:-1]
        if name[0] in _STREET_TYPES_FIRST and len(name) >= 2:  # "Via Roma 10"
            return True
        return any(
            w.endswith(_STREET_SUFFIXES) and len(w) >= len(suffix) + 3
            for w in name
            for suffix in _STREET_SUFFIXES
            if w.endswith(suffix)
        )
    return False


def _looks_like_phone(text: str) -> bool:
    # International (+...) or written with separators, 7-15 digits. Bare digit strings are far
    # more often ids or amounts, dates and dotted numbers (1.234.567) more often not phones.
    if not _PHONE_VALUE.match(text) or _DATE_LIKE.match(text):
        return False
    if not 7 <= sum(ch.isdigit() for ch in text) <= 15:
        return False
    return text.startswith("+") or any(ch in text for ch in " -()")


# Inside free text (issue 15): an e-mail address is a token, a phone number a run of digits
# with the separators phone numbers use; each candidate is confirmed by the value detectors
# above, so free text is judged by the same rules as a column of e-mail addresses or phones.
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d ().-]{5,22}\d")


def pii_in_text(text: object) -> str | None:
    """The kind of personal data written *inside* a free-text value (an e-mail address or a
    phone number), or None; a value that is one whole is ``pii_category_for_value``'s."""
    if not isinstance(text, str) or len(text) > 10_000:
        return None
    for found in _EMAIL_IN_TEXT.finditer(text):
        if pii_category_for_value(found.group(0).strip(".")) == "e-mail address":
            return "e-mail address"
    for found in _PHONE_IN_TEXT.finditer(text):
        candidate = found.group(0).strip()
        # In prose, codes and references look like phone numbers too: only an international
        # number, an area code in parentheses, or ten digits or more count.
        digits = sum(ch.isdigit() for ch in candidate)
        shaped = candidate.startswith(("+", "(")) or digits >= 10
        if shaped and not _DATE_LIKE.match(candidate) and _looks_like_phone(candidate):
            return "phone number"
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _pii_names(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    out = []
    ignored = set(params.get("ignore_columns", ()))
    for i, col in enumerate(contract.schema):
        if col.pii or col.column in ignored:
            continue
        category = pii_category_for_name(col.column)
        if category:
            out.append(
                (
                    f"schema[{i}].pii",
                    f"column {col.column} looks like personal data ({category}) by its name; "
                    "set pii: true",
                )
            )
    return out


def _pii_values(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    threshold = float(params.get("threshold", 0.5))
    min_samples = int(params.get("min_samples", 1))
    out = []
    for i, col in enumerate(contract.schema):
        if col.pii:
            continue
        values = [v for v in samples.get(col.column, ()) if v is not None]
        if len(values) < min_samples or not values:
            continue
        # Each distinct text is judged once, weighed by how often it was sampled (a status
        # column's 200 values are a handful); a value that is not text is no personal data.
        counts: dict[str, int] = {}
        for value, times in Counter(v for v in values if isinstance(v, str)).items():
            category = pii_category_for_value(value)
            if category:
                counts[category] = counts.get(category, 0) + times
        if not counts:
            continue
        category = max(counts, key=lambda name: counts[name])
        total_hits = sum(counts.values())
        if total_hits / len(values) >= threshold:
            out.append(
                (
                    f"schema[{i}].pii",
                    f"column {col.column}: {total_hits} of {len(values)} sampled values look "
                    f"like personal data (mostly {category}); set pii: true",
                )
            )
    return out


# Masks that map many values to one reading (``last4`` of two ids can match, ``redact`` and
# ``null`` map every value to one): the governor's COLLAPSING_MASKS, kept equal by a test.
COLLAPSING_MASKS = frozenset({"last4", "email", "redact", "null"})
# Names that identify a row or a person: ``id``, ``*_id``, ``*_key``, ``*_uuid``, and bare
# person or account nouns (``customer``, ``user``...), plus the pii.column_names person-id words.
IDENTIFIER_NAME_RE = re.compile(
    r"(^|_)(id|ids|uuid|guid|key|identifier)" + _END + "|"
    r"^(customer|user|member|person|subscriber|patient|employee|visitor|buyer|shopper|client|"
    r"account|owner|contact|recipient|sender)" + _END
)


def looks_like_identifier(column: str) -> bool:
    """Whether a column name reads as an identifier (``user_id``, ``id``, ``customer``)."""
    name = column.lower()
    return bool(
        IDENTIFIER_NAME_RE.search(name) or pii_category_for_name(name) == "person identifier"
    )


def _pii_identifier_masks(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    ignored = set(params.get("ignore_columns", ()))
    out = []
    for i, col in enumerate(contract.schema):
        mask = col.effective_mask
        if col.column in ignored or mask not in COLLAPSING_MASKS:
            continue
        if looks_like_identifier(col.column):
            shown = mask if col.mask else f"{mask} (the default)"
            out.append(
                (
                    f"schema[{i}].mask",
                    f"column {col.column} looks like an identifier, but its mask {shown} "
                    "collapses values: different ids read the same, so masked readers' joins, "
                    "groupings and distinct counts on it are wrong; set mask: hash (keyed, "
                    "one reading per value, still joinable)",
                )
            )
    return out


def _lower_threshold(
    global_params: Mapping[str, Any], domain_params: Mapping[str, Any]
) -> dict[str, Any]:
    out = dict(global_params)
    out["threshold"] = min(
        float(global_params.get("threshold", 0.5)), float(domain_params.get("threshold", 0.5))
    )
    out["min_samples"] = min(
        int(global_params.get("min_samples", 1)), int(domain_params.get("min_samples", 1))
    )
    return out


def _fewer_ignored(
    global_params: Mapping[str, Any], domain_params: Mapping[str, Any]
) -> dict[str, Any]:
    # A domain may only shrink the exemption list, never add to it.
    ignored = list(global_params.get("ignore_columns", ()))
    if "ignore_columns" in domain_params:
        allowed = set(domain_params["ignore_columns"])
        ignored = [c for c in ignored if c in allowed]
    return {**global_params, "ignore_columns": ignored}


# ---------------------------------------------------------------------------------------------
# Required checks
# ---------------------------------------------------------------------------------------------


def _applies(contract: Contract, params: Mapping[str, Any]) -> bool:
    return contract.status in params.get("statuses", (ProductStatus.PUBLISHED,))


def _freshness_check(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    if not _applies(contract, params):
        return []
    if any(c.type == "freshness" for c in contract.quality_checks):
        return []
    timestamps = [c.column for c in contract.schema if c.type == "timestamp"]
    hint = f" (e.g. on {timestamps[0]})" if timestamps else ""
    return [
        (
            "qualityChecks",
            f"a published product needs a freshness check{hint} to prove its "
            f"{contract.sla.freshness} SLA",
        )
    ]


def _not_null_checks(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    if not _applies(contract, params):
        return []
    covered = {c.column for c in contract.quality_checks if c.type == "not_null"}
    return [
        (
            f"schema[{i}]",
            f"column {col.column} is declared not nullable but has no not_null check",
        )
        for i, col in enumerate(contract.schema)
        if not col.nullable and col.column not in covered
    ]


def _more_statuses(
    global_params: Mapping[str, Any], domain_params: Mapping[str, Any]
) -> dict[str, Any]:
    statuses = list(global_params.get("statuses", (ProductStatus.PUBLISHED,)))
    statuses += [s for s in domain_params.get("statuses", ()) if s not in statuses]
    return {**global_params, "statuses": statuses}


def _deprecation_notice(
    contract: Contract, params: Mapping[str, Any], samples: Mapping[str, Sequence[object]]
) -> list[tuple[str, str]]:
    if contract.status != ProductStatus.DEPRECATED:
        return []
    dep = contract.deprecation
    if dep is None:
        return [("deprecation", "say why, until when and what replaces this deprecated product")]
    out = []
    if dep.sunset_at is None:
        out.append(("deprecation.sunsetAt", "a deprecated product needs a sunset date"))
    if dep.replaced_by is None:
        out.append(("deprecation.replacedBy", "name the product consumers should move to"))
    return out


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------

POLICIES: dict[str, PolicyDefinition] = {
    d.key: d
    for d in (
        PolicyDefinition(
            "naming.product_id",
            "Product ids are domain.product_name",
            "The id is lowercase: the owning domain, a dot, then the product name in "
            "snake_case, so ids read the same in URLs, SQL and the catalog.",
            Severity.ERROR,
            {"pattern": ID_RE},
            _naming_product_id,
        ),
        PolicyDefinition(
            "naming.column_snake_case",
            "Column names are snake_case",
            "Column names are lowercase snake_case (letters, digits, underscores), so SQL "
            "never needs quoting and names are uniform across domains.",
            Severity.ERROR,
            {"pattern": SNAKE_CASE_RE},
            _naming_columns,
        ),
        PolicyDefinition(
            "naming.no_reserved_words",
            "No SQL reserved words as column names",
            "Columns named like SQL keywords (order, user, select...) break hand-written "
            "queries; pick a descriptive name instead (order_id, user_id).",
            Severity.ERROR,
            {"extra_words": []},
            _naming_reserved,
            _union_words,
        ),
        PolicyDefinition(
            "metadata.product_description",
            "Products are described",
            "Every product says what it contains and how it is built, so consumers can judge "
            "if it fits their use.",
            Severity.ERROR,
            {"min_length": 1},
            _product_description,
            _longer_min_length,
        ),
        PolicyDefinition(
            "metadata.owner_contact",
            "Owners can be reached by e-mail",
            "Every product names a contact address that alerts and consumers can reach.",
            Severity.ERROR,
            {},
            _owner_contact,
        ),
        PolicyDefinition(
            "metadata.owner_slack",
            "Owners have a Slack channel",
            "Every product names a Slack channel (#name) where consumers ask questions.",
            Severity.WARNING,
            {},
            _owner_slack,
        ),
        PolicyDefinition(
            "metadata.column_descriptions",
            "Columns are described",
            "Every column says what it holds, with units where they matter.",
            Severity.WARNING,
            {},
            _column_descriptions,
        ),
        PolicyDefinition(
            "metadata.tags",
            "Products are tagged",
            "At least one tag, so the product shows up in catalog searches.",
            Severity.WARNING,
            {},
            _tags,
        ),
        PolicyDefinition(
            "pii.column_names",
            "Personal data is flagged by name",
            "A column whose name suggests personal data (e-mail, phone, names, address, IP, "
            "birth date, user or customer id, card, account or IBAN numbers, government ids) "
            "must be flagged pii, so non-privileged readers only ever see it masked.",
            Severity.ERROR,
            {"ignore_columns": []},
            _pii_names,
            _fewer_ignored,
        ),
        PolicyDefinition(
            "pii.sampled_values",
            "Personal data is flagged by content",
            "When sampled values of a column mostly look personal (e-mail addresses, phone "
            "numbers, IP addresses, Luhn-valid card numbers, IBANs, people's names, postal "
            "addresses), the column must be flagged pii, whatever its name.",
            Severity.ERROR,
            {"threshold": 0.5, "min_samples": 1},
            _pii_values,
            _lower_threshold,
        ),
        PolicyDefinition(
            "pii.identifier_mask",
            "Identifier-like personal data is hashed",
            "A pii column whose name reads as an identifier (id, *_id, *_key, customer, "
            "user...) uses mask: hash, which keeps one reading per value: last4, email, "
            "redact and null make different ids read the same, so masked readers' joins, "
            "groupings and distinct counts on it go wrong.",
            Severity.WARNING,
            {"ignore_columns": []},
            _pii_identifier_masks,
            _fewer_ignored,
        ),
        PolicyDefinition(
            "checks.freshness",
            "Published products check their freshness",
            "A published product has a freshness check, so its SLA is measured, not promised.",
            Severity.WARNING,
            {"statuses": [ProductStatus.PUBLISHED]},
            _freshness_check,
            _more_statuses,
        ),
        PolicyDefinition(
            "checks.not_null",
            "Required columns are checked",
            "Every column declared not nullable on a published product has a not_null check.",
            Severity.WARNING,
            {"statuses": [ProductStatus.PUBLISHED]},
            _not_null_checks,
            _more_statuses,
        ),
        PolicyDefinition(
            "lifecycle.deprecation_notice",
            "Deprecations say when and what next",
            "A deprecated product names its sunset date and its replacement.",
            Severity.WARNING,
            {},
            _deprecation_notice,
        ),
    )
}

DEFAULT_POLICIES: list[PolicyRule] = [
    PolicyRule(d.key, d.default_severity, dict(d.default_params)) for d in POLICIES.values()
]


# ---------------------------------------------------------------------------------------------
# Evaluation and federation
# ---------------------------------------------------------------------------------------------


def evaluate_policies(
    contract: Contract,
    rules: Sequence[PolicyRule],
    *,
    samples: Mapping[str, Sequence[object]] | None = None,
) -> list[Violation]:
    """Every violation of the active rules, errors first, then in rule order.

    ``samples`` maps column names to a few sampled values (for content-based PII detection);
    callers fetch them from the warehouse, this function never does.
    """
    samples = samples or {}
    out: list[Violation] = []
    for rule in rules:
        if rule.severity == "off":
            continue
        definition = _definition(rule.key)
        _check_severity(rule.severity)
        params = {**definition.default_params, **rule.params}
        for path, message in definition.evaluate(contract, params, samples):
            out.append(Violation(rule.key, path, message, rule.severity))
    out.sort(key=lambda v: -_RANK[v.severity])
    return out


def has_errors(violations: Iterable[Violation]) -> bool:
    """True when any violation blocks publishing."""
    return any(v.severity == Severity.ERROR for v in violations)


def merge_rules(
    global_rules: Sequence[PolicyRule], domain_rules: Sequence[PolicyRule]
) -> list[PolicyRule]:
    """The rules for one domain: the global ones, made stricter where the domain asks.

    A domain may raise a severity (off → warning → error) and tighten params (see each
    definition's ``tighten``); anything looser in a domain rule is ignored, never applied.
    """
    merged: dict[str, PolicyRule] = {r.key: r for r in global_rules}
    for rule in domain_rules:
        _definition(rule.key)
        _check_severity(rule.severity)
        base = merged.get(rule.key)
        if base is None or base.severity == "off":
            # The platform does not enforce it: the domain's rule stands as written, unless it
            # is itself off.
            if rule.severity != "off":
                merged[rule.key] = PolicyRule(rule.key, rule.severity, dict(rule.params))
            continue
        severity = max(base.severity, rule.severity, key=lambda s: _RANK[s])
        params = dict(base.params)
        tighten = POLICIES[rule.key].tighten
        if tighten is not None and rule.params:
            full_base = {**POLICIES[rule.key].default_params, **base.params}
            params = tighten(full_base, rule.params)
        merged[rule.key] = PolicyRule(rule.key, severity, params)
    return list(merged.values())


def parse_rules(data: object) -> list[PolicyRule]:
    """Rules from their JSON shape ``[{"key", "severity", "params"?}]``; ValueError if malformed."""
    if not isinstance(data, list | tuple):
        raise ValueError("rules must be a list")
    out = []
    problems = []
    for i, item in enumerate(data):
        if not isinstance(item, Mapping):
            problems.append(f"[{i}]: must be a mapping")
            continue
        unknown = set(item) - {"key", "severity", "params"}
        if unknown:
            problems.append(f"[{i}]: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        key, severity, params = item.get("key"), item.get("severity"), item.get("params", {})
        if key not in POLICIES:
            problems.append(f"[{i}].key: unknown policy {key!r}; known: {', '.join(POLICIES)}")
        if severity not in SEVERITY_LEVELS:
            problems.append(f"[{i}].severity: must be one of {', '.join(SEVERITY_LEVELS)}")
        if not isinstance(params, Mapping):
            problems.append(f"[{i}].params: must be a mapping")
        elif key in POLICIES:
            problems += [f"[{i}].params.{p}" for p in _param_problems(POLICIES[key], params)]
        if not problems:
            out.append(PolicyRule(str(key), str(severity), dict(params)))
    if problems:
        raise ValueError("; ".join(problems))
    return out


def _param_problems(definition: PolicyDefinition, params: Mapping[str, Any]) -> list[str]:
    """Params must be known to the policy and shaped like its defaults (checked on input, so a
    bad admin edit is refused there and never breaks a publish later)."""
    problems = []
    for name, value in params.items():
        if name not in definition.default_params:
            known = ", ".join(definition.default_params) or "none"
            problems.append(f"{name}: unknown parameter (known: {known})")
            continue
        default = definition.default_params[name]
        if isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{name}: must be a list of strings")
        elif isinstance(default, bool) or isinstance(value, bool):
            problems.append(f"{name}: must be a {type(default).__name__}")
        elif isinstance(default, int | float):
            if not isinstance(value, int | float):
                problems.append(f"{name}: must be a number")
            elif isinstance(default, int) and not float(value).is_integer():
                problems.append(f"{name}: must be an integer")
            elif value < 0 or (name == "threshold" and not 0 < value <= 1):
                problems.append(f"{name}: out of range")
        elif isinstance(default, str):
            if not isinstance(value, str):
                problems.append(f"{name}: must be a string")
            elif name == "pattern":
                try:
                    re.compile(value)
                except re.error as exc:
                    problems.append(f"{name}: not a valid regular expression ({exc})")
    return problems


def _definition(key: str) -> PolicyDefinition:
    try:
        return POLICIES[key]
    except KeyError:
        raise ValueError(f"unknown policy {key!r}") from None


def _check_severity(severity: str) -> None:
    if severity not in SEVERITY_LEVELS:
        raise ValueError(f"severity must be one of {', '.join(SEVERITY_LEVELS)}, not {severity!r}")
