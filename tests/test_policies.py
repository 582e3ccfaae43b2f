"""Each policy is defined once (``sluice/policies.py``): the settings read it from YAML and the
environment (laxly), the admin API from JSON (strictly), the store keeps it as the same JSON as
before, and its checks run on every path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
from pydantic import TypeAdapter, ValidationError

from sluice.policies import Budget, CachePolicy, GuardrailPolicy, Limits
from sluice.settings import ConfigError, load_settings
from sluice.struct_schema import WIRE, dump, model_of

POLICIES = [Limits, Budget, GuardrailPolicy, CachePolicy]


@pytest.mark.parametrize(
    ("policy", "stored"),
    [
        # What the admin API stored before the policies had one definition (pydantic's
        # model_dump(exclude_defaults=True)): the same JSON is written and read back.
        (
            GuardrailPolicy(pii="block", deny=("x",), deny_patterns={"n": r"\d+"}),
            {"pii": "block", "deny": ["x"], "deny_patterns": {"n": r"\d+"}},
        ),
        (
            GuardrailPolicy(injection_threshold=0.7, deny_categories=("violence",)),
            {"injection_threshold": 0.7, "deny_categories": ["violence"]},
        ),
        (
            CachePolicy(semantic="shadow", ttl_s=60, threshold=0.9),
            {"semantic": "shadow", "ttl_s": 60, "threshold": 0.9},
        ),
        (CachePolicy(), {}),
    ],
)
def test_a_policy_is_stored_as_the_same_json(policy: Any, stored: dict[str, Any]) -> None:
    assert msgspec.json.decode(msgspec.json.encode(policy)) == stored
    assert msgspec.convert(stored, type(policy)) == policy


def test_the_settings_read_a_policy_laxly_and_the_admin_api_strictly(tmp_path: Path) -> None:
    p = tmp_path / "sluice.yaml"
    p.write_text("limits: {defaults: {rpm: '${RPM}'}}\ncache: {policy: {exact: 'false'}}\n")
    s = load_settings(p, env={"RPM": "60"})  # ${VAR} gives text
    assert s.limits.defaults == Limits(rpm=60) and s.cache.policy == CachePolicy(exact=False)
    wire = TypeAdapter(Annotated[Limits, WIRE])
    assert wire.validate_python({"rpm": 60}) == Limits(rpm=60)
    for bad in ({"rpm": "60"}, {"rpm": 60.0}, {"rpm": True}):
        with pytest.raises(ValidationError) as e:
            wire.validate_python(bad)
        assert e.value.errors()[0]["loc"] == ("rpm",)


def test_a_bad_policy_in_the_config_names_its_key_path(tmp_path: Path) -> None:
    p = tmp_path / "sluice.yaml"
    p.write_text(
        "limits: {defaults: {rpm: 0, colour: red}}\n"
        "guardrails: {tenants: {acme: {pii: maybe}}}\n"
        "auth: {keys: [{key: k, name: n, budgets: [{period: day, on_exceed: downgrade}]}]}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert set(e.value.problems) >= {
        "limits.defaults.rpm: Input should be greater than or equal to 1",
        "limits.defaults.colour: unknown key",
        "guardrails.tenants.acme.pii: Input should be 'off', 'log', 'flag', 'redact' or 'block'",
        "auth.keys.0.budgets.0: Value error, on_exceed downgrade needs downgrade_to",
    }, e.value.problems


def test_a_policys_own_checks_run_on_every_path() -> None:
    budget = {"period": "day", "on_exceed": "downgrade"}
    with pytest.raises(ValueError, match="on_exceed downgrade needs downgrade_to"):
        Budget(period="day", on_exceed="downgrade")
    with pytest.raises(msgspec.ValidationError, match="on_exceed downgrade needs downgrade_to"):
        msgspec.convert(budget, Budget)
    with pytest.raises(ValidationError, match="on_exceed downgrade needs downgrade_to"):
        TypeAdapter(Annotated[Budget, WIRE]).validate_python(budget)
    with pytest.raises(ValidationError, match=r"deny_patterns\.bad: not a valid regex"):
        TypeAdapter(GuardrailPolicy).validate_python({"deny_patterns": {"bad": "("}})


@pytest.mark.parametrize("policy", POLICIES)
def test_the_generated_model_has_the_policys_fields_and_descriptions(policy: type[msgspec.Struct]) -> None:
    fields = model_of(policy).model_fields
    assert list(fields) == list(policy.__struct_fields__)
    assert all(f.description for f in fields.values())
    schema = TypeAdapter(Annotated[policy, WIRE]).json_schema()
    assert (
        list(schema["properties"]) == list(policy.__struct_fields__)
        and schema["additionalProperties"] is False
    )


def test_a_policy_reads_back_with_every_field() -> None:
    out = dump(GuardrailPolicy(deny=("x",)))
    assert out["deny"] == ["x"] and out["pii"] == "off" and set(out) == set(GuardrailPolicy.__struct_fields__)
