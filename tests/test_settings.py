"""Settings: defaults, client options and what each agent model resolves to."""

from __future__ import annotations

import pytest

from subagent_lsp.settings import DEFAULT_MODELS, Settings


def test_agent_aliases_map_to_current_model_ids() -> None:
    settings = Settings()
    assert settings.model_for("opus") == DEFAULT_MODELS["opus"]
    assert settings.model_for("haiku") == DEFAULT_MODELS["haiku"]
    assert settings.model_for("inherit") == DEFAULT_MODELS["sonnet"]
    assert settings.model_for("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5-20250929"


def test_a_per_action_model_overrides_the_agent_model() -> None:
    settings = Settings().merged({"subagentLsp": {"actionModels": {"optimize-query": "opus"}}})
    assert settings.model_for("haiku", "optimize-query") == DEFAULT_MODELS["opus"]
    assert settings.model_for("haiku", "validate-input") == DEFAULT_MODELS["haiku"]


def test_client_options_are_merged_and_bad_values_are_ignored() -> None:
    settings = Settings().merged(
        {
            "models": {"sonnet": "my-gateway-sonnet"},
            "maxTokens": 1024,
            "requestTimeout": "soon",
            "compatibleEndpoint": True,
            "unknownKey": 1,
        }
    )
    assert settings.model_for("sonnet") == "my-gateway-sonnet"
    assert settings.model_for("opus") == DEFAULT_MODELS["opus"]
    assert settings.max_tokens == 1024
    assert settings.request_timeout == Settings().request_timeout
    assert settings.compatible_endpoint is True


def test_key_and_base_url_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    assert Settings().resolved_api_key() == "from-env"
    assert Settings(api_key="from-settings").resolved_api_key() == "from-settings"
    assert Settings().resolved_base_url() == "http://127.0.0.1:9"


def test_retries_can_be_turned_off_but_limits_must_be_positive() -> None:
    settings = Settings().merged({"maxRetries": 0, "maxTokens": 0, "hover": {"mode": "static"}})
    assert settings.max_retries == 0
    assert settings.max_tokens == Settings().max_tokens
    assert settings.hover_mode == "static"
    assert Settings().merged({"hoverMode": "sometimes"}).hover_mode == "model"
