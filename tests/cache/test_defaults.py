"""The semantic cache serves nothing unless a tenant turns it on."""

from sluice.policies import CachePolicy
from sluice.settings import CacheSettings


def test_caching_is_off_and_semantic_serving_needs_a_policy_that_turns_it_on() -> None:
    assert CacheSettings().enabled is False
    policy = CachePolicy()
    assert policy.semantic == "off"
    assert policy.judge is None
    assert policy.deterministic_only is True
    assert CacheSettings().policy.semantic == "off"
