"""Settings: defaults, then the instance config file, then KB_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import main
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
                                             ("KB_EVENT_BATCH_SIZE", "0"),
                                             # Flask-Limiter would only log it and not limit.
                                             ("KB_RATE_LIMIT_EVENTS", "lots"),
                                             ("KB_RATE_LIMIT_SEARCH", "60 a minute")])
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path), name: value})


def test_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "kb.cfg").write_text("LANGUAGES = [\n")
    with pytest.raises(SettingsError, match="kb.cfg"):
        load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path)})


def test_config_file_values_go_through_the_same_parsers(tmp_path: Path) -> None:
    (tmp_path / "kb.cfg").write_text('LANGUAGES = "en, sv"\nWORKERS = "3"\nMODEL_RUNTIME = "ONNX"\n'
                                     "READABILITY_MIN_FLESCH_EN = 55\nAUTO_MIGRATE = False\n")
    settings = load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path)})
    assert settings["LANGUAGES"] == ["en", "sv"]
    assert settings["WORKERS"] == 3
    assert settings["MODEL_RUNTIME"] == "onnx"
    assert settings["READABILITY_MIN_FLESCH_EN"] == 55.0
    assert isinstance(settings["READABILITY_MIN_FLESCH_EN"], float)
    assert settings["AUTO_MIGRATE"] is False


@pytest.mark.parametrize("line", ['WORKERS = "many"', "WORKERS = True", "LANGUAGES = 3",
                                  "MODEL_FALLBACK = 1"])
def test_a_bad_config_file_value_names_the_setting_and_the_file(tmp_path: Path,
                                                                line: str) -> None:
    (tmp_path / "kb.cfg").write_text(line + "\n")
    name = line.split(" ")[0]
    with pytest.raises(SettingsError, match=rf"{name} = .* in .*kb\.cfg is not valid"):
        load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path)})


def test_the_kb_command_shows_a_bad_setting_as_a_message(runner: CliRunner,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_WORKERS", "many")
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: KB_WORKERS='many' is not valid")
    assert "Traceback" not in result.output
