"""Names must match provision-twin-lite.sh exactly, and every derived name must be valid in Azure."""

from __future__ import annotations

import hashlib
import re

import pytest

from controlplane.domain.errors import InvalidInput
from controlplane.domain.naming import hash6, is_cloud_id, names_from_cloud_id, twin_names, validate_twin_name


def test_kody_matches_the_script() -> None:
    names = twin_names("kody")
    assert names.hash6 == "e89834"
    assert names.resource_group == "rg-twin-kody"
    assert names.storage_account == "sttwinkodye89834"
    assert names.app_name == names.cloud_id == "twin-kody-e89834"
    assert names.url == "https://twin-kody-e89834.azurewebsites.net"


def test_molly_matches_the_script() -> None:
    assert twin_names("molly").cloud_id == "twin-molly-4181ee"


def test_hash6_is_sha1_of_the_name_without_newline() -> None:
    # `printf '%s' NAME | shasum`: no trailing newline is hashed.
    assert hash6("kody") == hashlib.sha1(b"kody").hexdigest()[:6]
    assert hash6("kody") != hashlib.sha1(b"kody\n").hexdigest()[:6]


@pytest.mark.parametrize("name", ["a", "0", "abcdefghijkl", "twin42", "123456789012"])
def test_boundary_names_derive_valid_azure_names(name: str) -> None:
    names = twin_names(name)
    assert 3 <= len(names.storage_account) <= 24
    assert re.fullmatch(r"[a-z0-9]+", names.storage_account)
    assert re.fullmatch(r"[a-zA-Z0-9-]{2,60}", names.app_name)  # Function App names: 2-60, alnum and -
    assert re.fullmatch(r"[-\w._()]{1,90}", names.resource_group)
    assert is_cloud_id(names.cloud_id)
    assert names_from_cloud_id(names.cloud_id) == names


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "empty"),
        ("abcdefghijklm", "13 characters; the maximum is 12"),
        ("Kody", "characters Azure storage account names do not allow ('K')"),
        ("ko-dy", "('-')"),
        ("ko_dy", "('_')"),
        ("ko dy", "(' ')"),
        ("kodé", "('é')"),
        ("ｋody", "('ｋ')"),  # fullwidth k: looks lowercase, is not ASCII
        ("٣", "('٣')"),  # Arabic-Indic digit: str.isdigit() is True, Azure says no
        (None, "must be a string"),
        (42, "must be a string"),
    ],
    ids=[
        "empty",
        "13-chars",
        "uppercase",
        "hyphen",
        "underscore",
        "space",
        "accent",
        "fullwidth",
        "unicode-digit",
        "none",
        "int",
    ],
)
def test_invalid_names_say_which_rule_failed(name: object, rule: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_twin_name(name)
    assert info.value.field == "name"
    assert rule in info.value.detail
    assert "lowercase letters a-z and digits 0-9" in info.value.detail


@pytest.mark.parametrize(
    "value", ["twin-kody-000000", "twin-Kody-e89834", "twin-kody-e8983", "kody", "rg-twin-kody", "twin--e89834"]
)
def test_only_real_cloud_ids_are_recognised(value: str) -> None:
    assert not is_cloud_id(value)
    with pytest.raises(InvalidInput):
        names_from_cloud_id(value)
