"""Reading settings from the environment strictly: unknown names, malformed values, secret files."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.settings import Settings
from orchestrator.settings_loader import ConfigError, load_settings, setting_variables


def _problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return caught.value.problems


def _defaults() -> dict[str, object]:
    return Settings.model_construct().model_dump()


def test_an_empty_environment_gives_the_defaults() -> None:
    assert load_settings({}).model_dump() == _defaults()


def test_every_field_of_every_group_is_a_variable() -> None:
    names = setting_variables()
    assert "STEPMAP_REDIS__URL" in names
    assert "STEPMAP_REDIS" in names  # a group as one JSON object
    assert "STEPMAP_HANDLER_MODULES" in names
    assert names["STEPMAP_LIMITS__LEASE_SECONDS"][0] == ("limits", "lease_seconds")


def test_values_are_read_and_converted() -> None:
    settings = load_settings({"STEPMAP_REDIS__URL": "redis://r:1/2", "STEPMAP_LIMITS__LEASE_SECONDS": "7.5",
                              "STEPMAP_API__TOKENS": '["a","b"]', "STEPMAP_API__AUTH_ENABLED": "false",
                              "STEPMAP_HANDLER_MODULES": '["m1"]'})
    assert settings.redis.url == "redis://r:1/2"
    assert settings.limits.lease_seconds == 7.5
    assert [t.get_secret_value() for t in settings.api.tokens] == ["a", "b"]
    assert settings.api.auth_enabled is False
    assert settings.handler_modules == ["m1"]


def test_a_field_variable_wins_over_the_same_field_in_its_groups_json() -> None:
    settings = load_settings({"STEPMAP_REDIS": '{"url": "redis://group/0", "key_prefix": "p"}',
                              "STEPMAP_REDIS__URL": "redis://field/0"})
    assert (settings.redis.url, settings.redis.key_prefix) == ("redis://field/0", "p")


def test_a_misspelt_variable_is_refused_naming_the_nearest_valid_one() -> None:
    assert _problems({"STEPMAP_REDIS_URL": "redis://x"}) == [
        "STEPMAP_REDIS_URL: not a stepmap setting; did you mean STEPMAP_REDIS__URL?"]


def test_an_unknown_variable_far_from_any_name_lists_the_groups() -> None:
    (problem,) = _problems({"STEPMAP_WHATEVER": "1"})
    assert problem.startswith("STEPMAP_WHATEVER: not a stepmap setting; settings are STEPMAP_API, ")


def test_the_test_suites_own_variables_are_not_settings_and_are_left_alone() -> None:
    assert load_settings({"STEPMAP_TEST_REDIS_URL": "redis://t"}).model_dump() == _defaults()


def test_a_malformed_list_names_the_variable_and_the_expected_form() -> None:
    assert _problems({"STEPMAP_API__TOKENS": "t1"}) == [
        'STEPMAP_API__TOKENS: expected a JSON list, e.g. ["a","b"], got \'t1\'']


def test_every_malformed_value_is_reported_at_once_one_line_each() -> None:
    problems = _problems({"STEPMAP_LIMITS__PAYLOAD_BYTES": "abc", "STEPMAP_CELERY__VISIBILITY_TIMEOUT": "0"})
    assert sorted(problems) == [
        "STEPMAP_CELERY__VISIBILITY_TIMEOUT: Input should be greater than or equal to 1 (got '0')",
        "STEPMAP_LIMITS__PAYLOAD_BYTES: Input should be a valid integer, unable to parse string as an "
        "integer (got 'abc')",
    ]


def test_a_secret_value_is_never_echoed_in_an_error() -> None:
    problems = _problems({"STEPMAP_S3": '{"secret_access_key": "hush", "region": []}',
                          "STEPMAP_API__TOKENS": '[{"not": "a string"}]'})
    assert [p.split(":")[0] for p in sorted(problems)] == ["STEPMAP_API__TOKENS", "STEPMAP_S3__REGION"]
    text = "\n".join(problems)
    assert "hush" not in text and "a string" not in text


def test_a_secret_is_read_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "tokens"
    secret.write_text('["from-file"]\n')
    settings = load_settings({"STEPMAP_API__TOKENS_FILE": str(secret)})
    assert [t.get_secret_value() for t in settings.api.tokens] == ["from-file"]


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    (problem,) = _problems({"STEPMAP_S3__SECRET_ACCESS_KEY_FILE": str(tmp_path / "missing")})
    assert problem.startswith("STEPMAP_S3__SECRET_ACCESS_KEY_FILE: cannot read ")


def test_a_value_and_its_file_together_are_refused(tmp_path: Path) -> None:
    (problem,) = _problems({"STEPMAP_S3__SECRET_ACCESS_KEY": "x",
                            "STEPMAP_S3__SECRET_ACCESS_KEY_FILE": str(tmp_path)})
    assert "keep one" in problem
