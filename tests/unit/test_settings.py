"""Settings: safe defaults, every bad value named, the secret key generated once and reused.

Each test runs load_settings() on an environment holding only the FACTEUR_* variables it
sets. get_settings() is cached process-wide and piccolo_conf/tests rely on that object: the
tests that clear the cache put the very same object back afterwards.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from unittest import mock

import msgspec
import pytest

from backend import cli
from backend import settings as settings_module
from backend.settings import Settings, SettingsError, get_settings, load_settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No FACTEUR_* variable but a fresh data folder; returns a setter."""
    for name in [n for n in os.environ if n.startswith("FACTEUR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FACTEUR_DATA_DIR", str(tmp_path / "data"))

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"FACTEUR_{name}", value)

    return set_


@pytest.fixture(scope="module", autouse=True)
def run_settings():
    """The run's cached settings, taken before any test of this module touches the environment."""
    return get_settings()


@pytest.fixture
def fresh_cache(run_settings):
    """Let a test see get_settings() recompute, then restore the exact cached object."""
    original = run_settings
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    with mock.patch.object(settings_module, "load_settings", return_value=original):
        assert get_settings() is original


def test_defaults_for_a_laptop(env, tmp_path):
    settings = load_settings()
    data_dir = (tmp_path / "data").resolve()
    assert settings.data_dir == data_dir and data_dir.is_dir()
    assert settings.database_url == f"sqlite:///{data_dir / 'facteur.sqlite3'}"
    assert not settings.is_postgres
    assert settings.sqlite_path == data_dir / "facteur.sqlite3"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.secure_cookies is False
    assert settings.redis_url is None
    assert settings.smtp_host is None and settings.smtp_port == 25
    assert settings.smtp_user is None and settings.smtp_password is None
    assert settings.smtp_from == "Facteur <no-reply@facteur.localhost>"
    assert settings.debug is False
    assert settings.max_file_size == 20 * 1024 * 1024
    assert settings.max_flux_size == 120 * 1024 * 1024
    assert settings.mailbox_dir == data_dir / "mailbox"
    assert settings.files_dir == data_dir / "files"


def test_data_dir_defaults_to_data_in_the_working_folder(env, monkeypatch, tmp_path):
    monkeypatch.delenv("FACTEUR_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert load_settings().data_dir == (tmp_path / "data").resolve()


def test_nested_data_dir_is_created(env, tmp_path):
    env(DATA_DIR=str(tmp_path / "a" / "b" / "c"))
    assert load_settings().data_dir.is_dir()


def test_data_dir_that_cannot_be_created_is_named(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env(DATA_DIR=str(blocker / "data"))
    with pytest.raises(SettingsError, match="FACTEUR_DATA_DIR"):
        load_settings()


def test_values_are_read_and_trimmed(env):
    env(
        DATABASE_URL=" postgresql://facteur:pw@db:5432/facteur ",
        REDIS_URL="redis://cache:6379/0",
        BASE_URL="https://facteur.example.fr/",
        SMTP_HOST="smtp.example.fr",
        SMTP_PORT=" 2525 ",
        SMTP_USER="u",
        SMTP_PASSWORD="p",
        SMTP_FROM="Facteur <facteur@example.fr>",
        DEBUG="Yes",
        MAX_FILE_SIZE="1048576",
        MAX_FLUX_SIZE="2097152",
    )
    settings = load_settings()
    assert settings.database_url == "postgresql://facteur:pw@db:5432/facteur" and settings.is_postgres
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.base_url == "https://facteur.example.fr" and settings.secure_cookies
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password) == ("smtp.example.fr", 2525, "u", "p")
    assert settings.smtp_from == "Facteur <facteur@example.fr>"
    assert settings.debug is True
    assert (settings.max_file_size, settings.max_flux_size) == (1048576, 2097152)


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h:5432/db"])
def test_postgres_urls(env, url):
    env(DATABASE_URL=url)
    assert load_settings().is_postgres


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("ON", True), ("yes", True),
                                               ("0", False), ("False", False), ("off", False), ("no", False), ("", False)])
def test_booleans(env, raw, expected):
    env(DEBUG=raw)
    assert load_settings().debug is expected


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("DEBUG", "maybe", "1/0, true/false"),
        ("SMTP_PORT", "abc", "nombre entier"),
        ("SMTP_PORT", "0", "entre 1 et 65535"),
        ("SMTP_PORT", "65536", "entre 1 et 65535"),
        ("MAX_FILE_SIZE", "12.5", "nombre entier"),
        ("MAX_FILE_SIZE", "10", "entre 1024 et"),
        ("MAX_FLUX_SIZE", str(5 * 1024**3), "entre 1024 et"),
        ("DATABASE_URL", "mysql://u@h/db", "sqlite/postgres/postgresql://"),
        ("DATABASE_URL", "facteur.sqlite3", "sqlite/postgres/postgresql://"),
        ("REDIS_URL", "http://cache:6379", "redis/rediss/unix://"),
        ("BASE_URL", "facteur.example.fr", "http/https://"),
        ("BASE_URL", "ftp://facteur.example.fr", "http/https://"),
        ("SECRET_KEY", "too-short", "au moins 32 caractères"),
    ],
)
def test_a_bad_value_names_its_variable(env, name, value, words):
    env(**{name: value})
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"FACTEUR_{name}" in message
    assert words in message
    if name != "SECRET_KEY":
        assert value.strip() in message  # what was read, so the operator sees the typo


def test_empty_optional_values_mean_unset(env):
    env(DATABASE_URL="", REDIS_URL="", BASE_URL="", SMTP_HOST="", SMTP_PORT="", SMTP_USER="")
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None and settings.smtp_host is None and settings.smtp_user is None
    assert settings.base_url == "http://127.0.0.1:8000" and settings.smtp_port == 25


# --- secret key -------------------------------------------------------------------------


def test_secret_key_from_the_environment(env):
    key = "k" * 32
    env(SECRET_KEY=key)
    settings = load_settings()
    assert settings.secret_key == key
    assert not (settings.data_dir / "secret_key").exists()  # nothing written when given


def test_secret_key_is_generated_once_into_the_data_dir_and_reused(env, tmp_path):
    first = load_settings()
    key_file = first.data_dir / "secret_key"
    assert key_file.is_file()
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # readable by its owner only
    # No temporary file left (the VAPID key of Web Push is generated beside it, the same way).
    assert sorted(p.name for p in first.data_dir.iterdir()) == ["secret_key", "vapid_private_key.pem"]
    assert load_settings().secret_key == first.secret_key  # a restart keeps sessions and CSRF valid

    env(DATA_DIR=str(tmp_path / "other"))
    assert load_settings().secret_key != first.secret_key  # another data folder, another key


class _CheckedTooEarly(type(Path())):
    """A path whose exists() answers as it did before another process wrote the file."""

    def exists(self, *args, **kwargs) -> bool:  # noqa: ARG002
        return False


def test_a_key_written_by_another_process_in_between_is_kept(env, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secret_key").write_text("key-of-the-process-that-started-first-0123456789")
    key = settings_module._secret_key(_CheckedTooEarly(data_dir))
    assert key == "key-of-the-process-that-started-first-0123456789"


# --- the cached settings and the command line -------------------------------------------


def test_get_settings_is_computed_once_then_recomputed_after_cache_clear(env, fresh_cache, tmp_path):
    env(SMTP_PORT="2525")
    first = get_settings()
    assert isinstance(first, Settings) and first.smtp_port == 2525
    env(SMTP_PORT="587")
    assert get_settings() is first  # cached: the environment is read at start only
    get_settings.cache_clear()
    assert get_settings().smtp_port == 587


def test_the_command_line_stops_on_a_bad_value_with_the_variable_name(env, fresh_cache, capsys):
    env(SMTP_PORT="vingt-cinq")
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "Configuration invalide" in err and "FACTEUR_SMTP_PORT" in err
    assert "Traceback" not in err


def test_the_cache_is_restored_for_the_rest_of_the_run(run_settings, settings):
    """The run's settings object is still the cached one (fresh_cache put it back); the
    `settings` fixture is that object with the apps' outbox worker turned off."""
    assert get_settings() is run_settings
    assert settings == msgspec.structs.replace(run_settings, outbox_worker=False)
    assert settings.data_dir == Path(os.environ["FACTEUR_DATA_DIR"]).resolve()


@pytest.mark.parametrize("host, port, url", [
    ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
    ("0.0.0.0", 8000, "http://127.0.0.1:8000"),  # every interface: reached here at 127.0.0.1
    ("::1", 9000, "http://[::1]:9000"),
    ("facteur.local", 8080, "http://facteur.local:8080"),
])
def test_links_point_where_the_server_listens_without_a_base_url(host, port, url):
    assert settings_module.listen_url(host, port) == url


def test_stored_files_stay_in_the_data_folder_without_a_bucket(env, tmp_path):
    settings = load_settings()
    assert settings.s3_bucket is None and not settings.uses_object_store
    assert settings.files_dir == tmp_path / "data" / "files"


def test_an_object_store_is_read_from_its_variables(env):
    env(S3_BUCKET="facteur-fichiers", S3_ENDPOINT_URL="https://s3.fr-par.scw.cloud", S3_REGION="fr-par",
        S3_ACCESS_KEY_ID="AK", S3_SECRET_ACCESS_KEY="SK", S3_PREFIX="/prod/fichiers/")
    settings = load_settings()
    assert settings.uses_object_store
    assert (settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region, settings.s3_prefix) == (
        "facteur-fichiers", "https://s3.fr-par.scw.cloud", "fr-par", "prod/fichiers/")
    assert (settings.s3_access_key_id, settings.s3_secret_access_key) == ("AK", "SK")


@pytest.mark.parametrize(("values", "words"), [
    ({"S3_ENDPOINT_URL": "https://s3.exemple.fr"}, "FACTEUR_S3_BUCKET est requis"),
    ({"S3_BUCKET": "Pas_Un_Bucket"}, "FACTEUR_S3_BUCKET n'est pas un nom de bucket valide"),
    ({"S3_BUCKET": "facteur", "S3_ACCESS_KEY_ID": "AK"}, "vont ensemble"),
    ({"S3_BUCKET": "facteur", "S3_ENDPOINT_URL": "ftp://s3.exemple.fr"}, "FACTEUR_S3_ENDPOINT_URL doit être une URL"),
])
def test_an_incoherent_object_store_is_named(env, values, words):
    env(**values)
    with pytest.raises(SettingsError, match=words):
        load_settings()
