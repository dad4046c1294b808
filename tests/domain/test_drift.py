"""controlplane.domain.drift: which rows lost their resources, which groups are twins without a row."""

from __future__ import annotations

from controlplane.domain.drift import Inventory, TaggedGroup, judge, owner_tag, twin_of_group
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.runtime_targets import target_of_site
from controlplane.domain.twin import Twin

SUB = "sub"
TAGS = {"stack": "TwinStack"}


def row(name: str, status: Status = Status.ACTIVE, subscription_id: str = SUB) -> Twin:
    names = twin_names(name)
    return Twin(
        cloud_id=names.cloud_id, name=name, owner="github:a", region="eastus2", runtime_target="azure-consumption-py311",
        deploy_ref="main", status=status, job_id="j" * 32, created_at="t", last_seen="t", subscription_id=subscription_id,
    )  # fmt: skip


def held(*names: str, sites: tuple[str, ...] | None = None) -> Inventory:
    groups = [TaggedGroup(f"rg-twin-{n}", "eastus2", dict(TAGS)) for n in names]
    on = names if sites is None else sites
    return Inventory.build(SUB, groups, [(f"rg-twin-{n}", twin_names(n).app_name) for n in on])


def test_an_active_row_without_its_group_or_site_is_missing_and_names_what_is_gone() -> None:
    drift = judge([row("kody"), row("molly"), row("ada")], held("molly", "ada", sites=("molly",)))
    assert [(r.name, gone) for r, gone in drift.missing] == [("kody", "resource group"), ("ada", "Function App")]


def test_only_active_rows_of_this_subscription_can_go_missing() -> None:
    rows = [row("kody", Status.PROVISIONING), row("molly", Status.ERRORED), row("ada", subscription_id="other")]
    assert judge(rows, held()).missing == []


def test_a_missing_row_whose_resources_are_back_returns() -> None:
    assert [r.name for r in judge([row("kody", Status.MISSING)], held("kody")).returned] == ["kody"]
    assert judge([row("kody", Status.MISSING)], held("kody", sites=())).returned == []


def test_groups_named_as_the_script_names_them_without_a_row_are_orphans() -> None:
    inventory = Inventory.build(
        SUB,
        [
            TaggedGroup("rg-twin-kody", "eastus2", TAGS), TaggedGroup("RG-TWIN-Molly", "eastus2", TAGS),
            TaggedGroup("rg-shared", "eastus2", TAGS), TaggedGroup("rg-twin-Bad_Name", "eastus2", TAGS),
            TaggedGroup("rg-twin-liar", "eastus2", {**TAGS, "twin": "other"}),
        ],
        [],
    )  # fmt: skip
    assert [n.name for n in judge([row("kody")], inventory).orphans] == ["molly"]


def test_tags_are_read_case_insensitively_by_name() -> None:
    group = TaggedGroup("rg-twin-kody", "eastus2", {"Owner": "wildhaven-ai-homes", "TWIN": "kody"})
    assert owner_tag(group) == "wildhaven-ai-homes" and twin_of_group(group) == twin_names("kody")
    assert owner_tag(TaggedGroup("rg-twin-kody", "eastus2", None)) is None


def test_a_sites_runtime_names_its_target_or_none() -> None:
    assert target_of_site("Python|3.11", None).name == "azure-consumption-py311"  # type: ignore[union-attr]
    assert target_of_site(None, ("python", "3.13")).name == "azure-flex-py313"  # type: ignore[union-attr]
    assert target_of_site("Node|20", None) is None and target_of_site(None, None) is None
    assert target_of_site("Python|3.12", None) is None  # Linux Consumption stays on 3.11
