"""Settings: defaults, then the instance config file, then KB_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.settings import SettingsError, load_settings


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    (tmp_path / "kb.cfg").write_text('LANGUAGES = ["en", "sv"]\nWORKERS = 3\nlowercase = "ignored"\n')
    env = {"KB_INSTANCE_PATH": str(tmp_path), "KB_WORKERS": "5"}
    settings = load_settings(environ=env)
    assert settings["LANGUAGES"] == ["en", "sv"]  # from the file
    assert settings["WORKERS"] == 5  # the environment wins over the file
    assert settings["SOURCE_LANGUAGE"] == "en"  # default
    assert settings["DATABASE_URL"] == f"sqlite:///{(tmp_path / 'kb.sqlite3').resolve()}"
    assert "lowercase" not in settings


def test_environment_values_are_parsed(tmp_path: Path) -> None:
    env = {"KB_INSTANCE_PATH": str(tmp_path), "KB_LANGUAGES": "en, ru",
           "KB_MODEL_FALLBACK": "no", "KB_CORS_ORIGINS": "https://a.example,https://b.example"}
    settings = load_settings(environ=env)
    assert settings["LANGUAGES"] == ["en", "ru"]
    assert settings["MODEL_FALLBACK"] is False
    assert settings["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(("name", "value"), [("KB_WORKERS", "many"), ("KB_AUTO_MIGRATE", "maybe"),
                                             ("KB_EVENT_BATCH_SIZE", "0")])
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path), name: value})


def test_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "kb.cfg").write_text("LANGUAGES = [\n")
    with pytest.raises(SettingsError, match="kb.cfg"):
        load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path)})
