from pathlib import Path

import pytest
from pydantic import ValidationError

from sluice.settings import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sluice.yaml"
    p.write_text(text)
    return p


def test_shipped_configs_load() -> None:
    demo = load_settings(REPO / "examples/demo.yaml")
    assert {"gpt-4o-mini", "claude-haiku", "text-embedding-3-small"} <= set(demo.models)
    assert all(demo.providers[d.provider].type == "sim" for m in demo.models.values() for d in m.deployments)
    assert [k.key.get_secret_value() for k in demo.auth.keys] == ["sk-sluice-demo"]
    bench = load_settings(REPO / "bench/sluice-bench.yaml", env={"MOCK_API_BASE": "http://127.0.0.1:9100/v1"})
    assert bench.providers["mock"].base_url == "http://127.0.0.1:9100/v1"


def test_defaults_run_as_shipped() -> None:
    s = load_settings(None)
    assert s.routing.timeouts.total_s == 30 and s.server.max_body_bytes == 4 * 1024 * 1024
    assert s.server.cors_origins == []


def test_every_problem_is_reported_with_file_and_key_path(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
server: {port: 70000, colour: blue}
providers:
  oa: {type: openai, base_url: "http://x/v1"}
models:
  m:
    deployments: [{provider: nope, model: y}]
    fallbacks: [ghost]
""",
    )
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert e.value.problems == [
        "server.port: Input should be less than or equal to 65535",
        "server.colour: unknown key",
    ]
    assert str(e.value).startswith(f"{p}: server.port")
    p = write(
        tmp_path,
        """
providers:
  oa: {type: openai, base_url: "http://x/v1"}
models:
  m:
    deployments: [{provider: nope, model: y}]
    fallbacks: [ghost]
""",
    )
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert e.value.problems == [
        "models.m.deployments.0.provider: unknown provider 'nope' (have: oa)",
        "models.m.fallbacks.0: unknown model alias 'ghost'",
    ]


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
providers:
  oa: {type: openai, base_url: "${BASE:-http://127.0.0.1:1/v1}", api_key: "${OPENAI_API_KEY}"}
models:
  m: {deployments: [{provider: oa, model: gpt-4o}]}
""",
    )
    with pytest.raises(ConfigError) as e:
        load_settings(p, env={})
    assert e.value.problems == ["providers.oa.api_key: environment variable OPENAI_API_KEY is not set"]
    s = load_settings(p, env={"OPENAI_API_KEY": "sk-live-123"})
    assert s.providers["oa"].api_key.get_secret_value() == "sk-live-123"
    assert "sk-live-123" not in repr(s)
    assert s.providers["oa"].base_url == "http://127.0.0.1:1/v1"


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(tmp_path / "missing.yaml")
    assert "cannot read" in e.value.problems[0]
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "models: [unclosed"))
    assert e.value.problems[0].startswith("not valid YAML")
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "- a list"))
    assert e.value.problems == ["the top level must be a mapping"]


def test_sluice_variables_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path, "server: {port: 4000, host: 127.0.0.1}\n")
    monkeypatch.setenv("SLUICE_SERVER__PORT", "8088")
    s = load_settings(p)
    assert (s.server.host, s.server.port) == ("127.0.0.1", 8088)


def test_a_policy_naming_an_unknown_guardrail_plugin_is_reported() -> None:
    with pytest.raises(ValidationError) as e:
        Settings(
            guardrails={
                "policy": {"plugins": ["ghost"]},
                "plugins": {"real": {"type": "webhook", "url": "http://127.0.0.1:1/x"}},
            }
        )
    assert "guardrails.policy.plugins.0: unknown guardrail plugin 'ghost' (have: real)" in str(e.value)
    with pytest.raises(ValidationError, match="target: required for a python plugin"):
        Settings(guardrails={"plugins": {"p": {"type": "python"}}})


def test_responses_encryption_keys_are_checked_without_echoing_them(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("responses:\n  encryption_keys: ['${SLUICE_TEST_RESPONSES_KEY}', 'not-a-fernet-key']\n")
    good = "0" * 43 + "="  # 32 zero bytes, url-safe base64
    with pytest.raises(ConfigError) as e:
        load_settings(path, env={"SLUICE_TEST_RESPONSES_KEY": good})
    assert "responses.encryption_keys" in str(e.value) and "encryption_keys[1]" in str(e.value)
    assert "not-a-fernet-key" not in str(e.value)
    path.write_text("responses:\n  encryption_keys: ['${SLUICE_TEST_RESPONSES_KEY}']\n")
    s = load_settings(path, env={"SLUICE_TEST_RESPONSES_KEY": good})
    assert [k.get_secret_value() for k in s.responses.encryption_keys] == [good]


def test_native_batches_need_a_provider_with_a_batch_api(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
providers:
  sim: {type: sim, batch: native}
  oa: {type: openai, base_url: "http://x/v1", batch: native, batch_discount: 0.5}
  sim2: {type: sim}
models:
  a: {deployments: [{provider: sim, model: s}]}
  b: {deployments: [{provider: sim2, model: s, batch: native}]}
  c: {deployments: [{provider: oa, model: g, batch: gateway}]}
""",
    )
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert e.value.problems == [
        "providers.sim.batch: 'native' needs a provider of type openai or anthropic (the sim has no batch API)",
        "models.a.deployments.0.batch: 'native' needs a provider of type openai or anthropic (the sim has no batch API)",
        "models.b.deployments.0.batch: 'native' needs a provider of type openai or anthropic (the sim has no batch API)",
    ]
    p = write(tmp_path, 'providers:\n  oa: {type: openai, base_url: "http://x/v1", batch_discount: 1.5}\n')
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert e.value.problems == ["providers.oa.batch_discount: Input should be less than or equal to 1"]


def test_the_s3_blob_store_is_checked_and_its_secrets_come_from_the_environment(tmp_path: Path) -> None:
    from sluice.obs.redact import secret_values

    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, "files: {blob_store: s3}\n"))
    assert [
        p.startswith("files: ") and "s3: required when blob_store is 's3'" in p for p in e.value.problems
    ] == [True]
    half = "files: {blob_store: s3, s3: {bucket: bkt, access_key_id: '${K}'}}\n"
    with pytest.raises(ConfigError) as e:
        load_settings(write(tmp_path, half), env={"K": "AKIA-half"})
    assert "set both, or neither" in str(e.value) and "AKIA-half" not in str(e.value)
    both = "files: {blob_store: s3, s3: {bucket: bkt, access_key_id: '${K}', secret_access_key: '${S}'}}\n"
    s = load_settings(write(tmp_path, both), env={"K": "AKIA-key", "S": "s3-secret"})
    assert s.files.s3 is not None and s.files.s3.prefix == "sluice/files/"
    assert (
        s.files.s3.secret_access_key is not None
        and s.files.s3.secret_access_key.get_secret_value() == "s3-secret"
    )
    assert "s3-secret" not in repr(s) and {"AKIA-key", "s3-secret"} <= set(
        secret_values(s)
    )  # redacted from logs
    assert load_settings(None).files.blob_store == "database"
    assert load_settings(None).knowledge.max_tenant_vector_stores == 10_000


def test_auto_aliases_are_checked_at_load(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
models:
  mini: {deployments: [{provider: sim, model: a}]}
  emb: {kind: embedding, deployments: [{provider: sim, model: e}]}
  empty: {}
  auto: {auto: {tiers: {fast: mini, balanced: ghost, strong: emb, long_context: auto2}, balanced_from: 0.5, strong_from: 0.4}}
  auto2: {auto: {tiers: {fast: mini}}, deployments: [{provider: sim, model: a}]}
  none: {auto: {tiers: {}}}
  uses: {deployments: [{provider: sim, model: a}], fallbacks: [auto2]}
""",
    )
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert e.value.problems == [
        "models.empty.deployments: at least one is needed (or make the alias auto)",
        "models.auto.auto.tiers.balanced: unknown model alias 'ghost'",
        "models.auto.auto.tiers.strong: 'emb' serves embedding, not chat",
        "models.auto.auto.tiers.long_context: 'auto2' is an auto alias itself",
        "models.auto.auto.strong_from: below balanced_from",
        "models.auto2: an auto alias has no deployments or fallbacks of its own (its tiers fall through to each other)",
        "models.none.auto.tiers: name at least one tier's alias",
        "models.uses.fallbacks.0: 'auto2' is an auto alias (only clients may name one)",
    ]
    ok = write(
        tmp_path,
        "models:\n  m: {deployments: [{provider: sim, model: a}]}\n  auto: {auto: {tiers: {fast: m}}}\n",
    )
    assert load_settings(ok).models["auto"].auto is not None
