"""The three authorization questions routes ask, for owners and operators."""

from __future__ import annotations

import pytest

from controlplane.auth import Forbidden, InvalidOwner, Principal, can_see, owner_filter_for_list, owner_for_create

OWNER = Principal(kind="owner", owner="github:wildfeuer05", via="bearer", subject_hint="issuer=x kid=y")
OPERATOR = Principal(kind="operator", owner=None, via="api-key", subject_hint="api-key slot=0")


def test_owner_creates_for_itself_by_default_or_by_name() -> None:
    assert owner_for_create(OWNER, None) == "github:wildfeuer05"
    assert owner_for_create(OWNER, "github:wildfeuer05") == "github:wildfeuer05"


def test_owner_may_not_create_for_another_owner() -> None:
    with pytest.raises(Forbidden) as caught:
        owner_for_create(OWNER, "github:someone-else")
    assert caught.value.status == 403


def test_operator_must_name_the_owner_when_creating() -> None:
    assert owner_for_create(OPERATOR, "github:juan") == "github:juan"
    with pytest.raises(InvalidOwner) as caught:
        owner_for_create(OPERATOR, None)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.status, caught.value.field) == (400, "owner")


@pytest.mark.parametrize("principal", [OWNER, OPERATOR], ids=["owner", "operator"])
@pytest.mark.parametrize(
    "bad", ["", "github:juan/../x", "x" * 129, " github:juan"], ids=["empty", "slash", "long", "space"]
)
def test_malformed_requested_owner_is_invalid(principal: Principal, bad: str) -> None:
    with pytest.raises(InvalidOwner):
        owner_for_create(principal, bad)
    with pytest.raises(InvalidOwner):
        owner_filter_for_list(principal, bad)


def test_owner_listing_is_forced_to_itself() -> None:
    assert owner_filter_for_list(OWNER, None) == "github:wildfeuer05"
    assert owner_filter_for_list(OWNER, "github:wildfeuer05") == "github:wildfeuer05"
    with pytest.raises(Forbidden):
        owner_filter_for_list(OWNER, "github:someone-else")


def test_operator_lists_as_requested() -> None:
    assert owner_filter_for_list(OPERATOR, None) is None
    assert owner_filter_for_list(OPERATOR, "github:juan") == "github:juan"


def test_can_see() -> None:
    assert can_see(OWNER, "github:wildfeuer05")
    assert not can_see(OWNER, "github:someone-else")
    assert not can_see(OWNER, "GITHUB:wildfeuer05")  # owner ids compare exactly
    assert can_see(OPERATOR, "github:anyone")


def test_principal_kinds_are_consistent() -> None:
    with pytest.raises(ValueError):
        Principal(kind="owner", owner=None, via="bearer", subject_hint="")
    with pytest.raises(ValueError):
        Principal(kind="operator", owner="github:x", via="bearer", subject_hint="")
