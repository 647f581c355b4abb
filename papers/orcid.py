"""ORCID iDs: accept what people paste, store the bare 16-character form, check the checksum."""

import re

from acl_anthology.utils.ids import is_valid_orcid
from django.core.exceptions import ValidationError

_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)


def orcid_normalize(value: str) -> str:
    """ "https://orcid.org/0000-0002-1297-679x " -> "0000-0002-1297-679X" (no validation)."""
    value = _URL_PREFIX.sub("", value.strip()).strip("/ ")
    digits = value.replace("-", "").replace(" ", "").upper()
    if len(digits) == 16:
        return "-".join(digits[i : i + 4] for i in range(0, 16, 4))
    return value.upper()


def orcid_clean(value: str) -> str:
    """The normalised ORCID iD, or "" for an empty value; ValidationError if it is malformed.

    The checksum is ISO 7064 11,2 (the last character, 0-9 or X), as the official
    `acl-anthology` library checks it, so an iD accepted here is accepted on export.
    """
    if not value or not value.strip():
        return ""
    orcid = orcid_normalize(value)
    if not re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", orcid):
        raise ValidationError(
            "An ORCID iD has 16 characters in four groups, like 0000-0002-1825-0097.",
            code="orcid_format",
        )
    if not is_valid_orcid(orcid):
        raise ValidationError(
            f"{orcid} is not a valid ORCID iD: its last character (the checksum) does not match. "
            "Please check for a typo.",
            code="orcid_checksum",
        )
    return orcid
