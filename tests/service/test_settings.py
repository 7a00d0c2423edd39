"""Settings: defaults, config.yaml, environment overrides, errors that name the key, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import SettingsError
from service.settings import REPO_ROOT, Settings, load_settings

NO_FILE: dict[str, str] = {}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), env=NO_FILE)
    assert settings.database.url == "sqlite+aiosqlite:///var/dsdesk.db"
    assert settings.pbx.mode == "simulator"
    assert settings.organisation.tz.key == "Europe/Moscow"
    assert settings.recordings.dir == Path("var/recordings")
    assert settings.recordings.pbx_prefix == "/var/spool/asterisk/monitor/"
    assert (settings.service.host, settings.service.port) == ("127.0.0.1", 8080)
    assert settings.ami.reconnect.min_s <= settings.ami.reconnect.max_s


def test_shipped_config_yaml_matches_the_defaults() -> None:
    assert load_settings(REPO_ROOT / "config.yaml", env=NO_FILE) == Settings()


@pytest.mark.parametrize(("channel", "ext"), [
    ("PJSIP/7001-001600e9", "7001"),
    ("SIP/101-00000a1b", "101"),
    ("Local/105@ds-agents-0000000c;1", "105"),
    ("Local/105@ds-agents", "105"),
    ("Local/79115550101@ds-clients-00000003;1", None),
    ("PJSIP/provider-00000001", None),
    ("PJSIP/79115550101-00000001", None),
])
def test_expert_channel_pattern(channel: str, ext: str | None) -> None:
    assert Settings().ami.expert_ext(channel) == ext


def test_expert_channel_pattern_needs_ext_group(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"ami\.expert_channel_pattern"):
        load_settings(write(tmp_path, "ami: {expert_channel_pattern: '^PJSIP/(\\d+)'}"), env=NO_FILE)


def test_file_values_are_typed_and_frozen(tmp_path: Path) -> None:
    path = write(tmp_path, "organisation: {timezone: Asia/Yekaterinburg}\nservice: {port: '9090'}\n")
    settings = load_settings(path, env=NO_FILE)
    assert settings.service.port == 9090
    assert settings.organisation.tz.key == "Asia/Yekaterinburg"
    with pytest.raises(ValueError):
        settings.service.port = 1


def test_wrong_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, "ami:\n  hots: pbx.example\n"), env=NO_FILE)
    assert "ami.hots" in str(caught.value)
    assert "unknown key" in str(caught.value)


def test_bad_values_are_named(tmp_path: Path) -> None:
    text = "pbx: {mode: freeswitch}\norganisation: {timezone: Mars/Olympus}\nsimulator: {ring_s: [9, 1]}\n"
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, text), env=NO_FILE)
    for key in ("pbx.mode", "organisation.timezone", "simulator.ring_s"):
        assert key in str(caught.value)


def test_dsdesk_config_env_chooses_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "service: {port: 8181}\n")
    assert load_settings(env={"DSDESK_CONFIG": str(path)}).service.port == 8181


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(env={"DSDESK_CONFIG": str(tmp_path / "nope.yaml")})


def test_database_url_env_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "database: {url: 'sqlite:///from-file.db'}\n")
    env = {"DSDESK_DATABASE_URL": "postgresql://u@db.example/dsdesk"}
    assert load_settings(path, env=env).database.url == "postgresql://u@db.example/dsdesk"


def test_env_is_read_from_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSDESK_CONFIG", str(write(tmp_path, "pbx: {mode: asterisk}\n")))
    monkeypatch.setenv("DSDESK_DATABASE_URL", "sqlite:///env.db")
    settings = load_settings()
    assert (settings.pbx.mode, settings.database.url) == ("asterisk", "sqlite:///env.db")


def test_secret_from_env_and_never_in_repr(tmp_path: Path) -> None:
    path = write(tmp_path, "ami: {secret: from-file}\ndatabase: {url: 'postgresql://u:dbpass@h/d'}\n")
    settings = load_settings(path, env={"DSDESK_AMI_SECRET": "s3cr3t-from-env"})
    assert settings.ami.secret.get_secret_value() == "s3cr3t-from-env"
    for text in (repr(settings), str(settings), repr(settings.ami), repr(settings.database)):
        assert "s3cr3t" not in text and "dbpass" not in text


def test_secret_from_file_when_env_unset(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "ami: {secret: from-file}\n"), env=NO_FILE)
    assert settings.ami.secret.get_secret_value() == "from-file"
    assert "from-file" not in repr(settings)


def test_recording_paths_map_into_the_recordings_dir() -> None:
    recordings = Settings().recordings
    assert recordings.local_path("/var/spool/asterisk/monitor/ds-1.wav") == Path("var/recordings/ds-1.wav")
    assert recordings.local_path("/elsewhere/ds-1.wav") is None
