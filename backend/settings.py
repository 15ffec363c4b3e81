"""Typed settings read from FACTEUR_* environment variables, validated once at start.

A bad value stops the program with a message naming the variable, never a traceback
deep inside a request.
"""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import msgspec


class SettingsError(ValueError):
    """A FACTEUR_* variable holds a value the application cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str
    redis_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Facteur <no-reply@facteur.localhost>"
    debug: bool = False
    max_file_size: int = 20 * 1024 * 1024
    max_flux_size: int = 120 * 1024 * 1024
    outbox_worker: bool = True  # deliver notifications from inside `facteur serve`
    api_rate_limit: int = 600  # API requests per key and per minute
    sse_keepalive: float = 15.0  # seconds between comment lines on /events (proxies close idle streams)
    # Webhook URLs may be http:// to 127.0.0.1/localhost (tests and development only).
    webhook_allow_local: bool = False
    # Web Push (backend/notifications): VAPID keys from FACTEUR_VAPID_* or generated into the data folder.
    vapid_private_key: str = ""  # PEM
    vapid_public_key: str = ""  # base64url applicationServerKey
    vapid_subject: str = ""  # mailto:… or https://…
    # Push endpoints may be http://127.0.0.1 (tests and development only; always allowed when debug).
    push_allow_local: bool = False
    # Stored files (originals, attachments) in an S3-compatible object store shared by every
    # host, instead of the data folder (backend/lib/blobstore.py). Credentials: these two, or
    # the standard AWS ones (AWS_ACCESS_KEY_ID…, ~/.aws, instance role) when they are unset.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. https://s3.fr-par.scw.cloud; AWS itself when unset
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_prefix: str = "files/"  # key prefix: the clean-up command only looks under it
    # Two-factor login (backend/accounts/twofactor.py): "managers" requires it of every
    # gestionnaire, "optional" offers it to everyone and requires it of nobody.
    two_factor: str = "managers"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def mailbox_dir(self) -> Path:
        return self.data_dir / "mailbox"

    @property
    def files_dir(self) -> Path:
        """Where stored files live without FACTEUR_S3_BUCKET."""
        return self.data_dir / "files"

    @property
    def uses_object_store(self) -> bool:
        return self.s3_bucket is not None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env(name: str) -> str | None:
    value = os.environ.get(f"FACTEUR_{name}")
    return value.strip() if value is not None else None


def _parse_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(f"FACTEUR_{name} doit valoir 1/0, true/false, yes/no ou on/off (reçu {raw!r}).")


def _parse_int(name: str, default: int, low: int, high: int) -> int:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"FACTEUR_{name} doit être un nombre entier (reçu {raw!r}).") from None
    if not low <= value <= high:
        raise SettingsError(f"FACTEUR_{name} doit être compris entre {low} et {high} (reçu {value}).")
    return value


TWO_FACTOR_POLICIES = ("managers", "optional")  # the first is the default


def _parse_choice(name: str, choices: tuple[str, ...]) -> str:
    raw = (_env(name) or "").lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise SettingsError(f"FACTEUR_{name} doit valoir {' ou '.join(choices)} (reçu {raw!r}).")
    return raw


def _parse_url(name: str, schemes: tuple[str, ...]) -> str | None:
    raw = _env(name)
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise SettingsError(f"FACTEUR_{name} doit être une URL {'/'.join(schemes)}:// (reçu {raw!r}).")
    return raw


def listen_url(host: str, port: int) -> str:
    """The address links point to when FACTEUR_BASE_URL is unset: where `facteur serve` listens.

    A server on every interface (0.0.0.0, ::) is reached from this machine at 127.0.0.1.
    """
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _database_url(data_dir: Path) -> str:
    url = _parse_url("DATABASE_URL", ("sqlite", "postgres", "postgresql"))
    if url is None:
        return f"sqlite:///{data_dir / 'facteur.sqlite3'}"
    return url


def _secret_key(data_dir: Path) -> str:
    """Read FACTEUR_SECRET_KEY, or a key generated once into the data folder."""
    raw = _env("SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise SettingsError("FACTEUR_SECRET_KEY doit contenir au moins 32 caractères.")
        return raw
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        # A unique temporary file linked into place: link() fails if another process got
        # there first, and then everyone reads the one key that won.
        tmp = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return key_file.read_text().strip()


def load_settings() -> Settings:
    data_dir = Path(_env("DATA_DIR") or "./data").resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"FACTEUR_DATA_DIR : impossible de créer {data_dir} ({exc.strerror}).") from None
    base_url = _parse_url("BASE_URL", ("http", "https")) or "http://127.0.0.1:8000"
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(data_dir),
        redis_url=_parse_url("REDIS_URL", ("redis", "rediss", "unix")),
        base_url=base_url.rstrip("/"),
        secret_key=_secret_key(data_dir),
        smtp_host=_env("SMTP_HOST") or None,
        smtp_port=_parse_int("SMTP_PORT", 25, 1, 65535),
        smtp_user=_env("SMTP_USER") or None,
        smtp_password=_env("SMTP_PASSWORD") or None,
        smtp_from=_env("SMTP_FROM") or "Facteur <no-reply@facteur.localhost>",
        debug=_parse_bool("DEBUG", False),
        max_file_size=_parse_int("MAX_FILE_SIZE", 20 * 1024 * 1024, 1024, 1024**3),
        max_flux_size=_parse_int("MAX_FLUX_SIZE", 120 * 1024 * 1024, 1024, 4 * 1024**3),
        outbox_worker=_parse_bool("OUTBOX_WORKER", True),
        api_rate_limit=_parse_int("API_RATE_LIMIT", 600, 1, 1_000_000),
        sse_keepalive=float(_parse_int("SSE_KEEPALIVE", 15, 1, 300)),
        webhook_allow_local=_parse_bool("WEBHOOK_ALLOW_LOCAL", False),
        push_allow_local=_parse_bool("PUSH_ALLOW_LOCAL", False),
        two_factor=_parse_choice("TWO_FACTOR", TWO_FACTOR_POLICIES),
        **_vapid(data_dir, _env("SMTP_FROM") or "Facteur <no-reply@facteur.localhost>"),
        **_object_store(),
    )


_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _object_store() -> dict[str, str | None]:
    """FACTEUR_S3_*: all unset (files in the data folder) or a bucket with coherent companions."""
    bucket = _env("S3_BUCKET") or None
    values = {
        "s3_endpoint_url": _parse_url("S3_ENDPOINT_URL", ("http", "https")),
        "s3_region": _env("S3_REGION") or None,
        "s3_access_key_id": _env("S3_ACCESS_KEY_ID") or None,
        "s3_secret_access_key": _env("S3_SECRET_ACCESS_KEY") or None,
    }
    if bucket is None:
        if any(values.values()):
            raise SettingsError("FACTEUR_S3_BUCKET est requis dès qu'une autre variable FACTEUR_S3_* est définie.")
        return {}
    if not _BUCKET_NAME.fullmatch(bucket):
        raise SettingsError(f"FACTEUR_S3_BUCKET n'est pas un nom de bucket valide (reçu {bucket!r}).")
    if (values["s3_access_key_id"] is None) != (values["s3_secret_access_key"] is None):
        raise SettingsError("FACTEUR_S3_ACCESS_KEY_ID et FACTEUR_S3_SECRET_ACCESS_KEY vont ensemble : définissez les deux ou aucune.")
    prefix = (_env("S3_PREFIX") if _env("S3_PREFIX") is not None else "files").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    return {"s3_bucket": bucket, "s3_prefix": prefix, **values}


def _vapid(data_dir: Path, smtp_from: str) -> dict[str, str]:
    from backend.notifications import vapid  # imports nothing of ours: no cycle

    try:
        keys = vapid.load_keys(data_dir, private=_env("VAPID_PRIVATE_KEY"), public=_env("VAPID_PUBLIC_KEY"),
                               subject=_env("VAPID_SUBJECT"), default_subject=vapid.default_subject(smtp_from))
    except vapid.VapidError as exc:
        raise SettingsError(str(exc)) from None
    return {"vapid_private_key": keys.private_pem, "vapid_public_key": keys.public_key, "vapid_subject": keys.subject}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call get_settings.cache_clear() after changing the environment."""
    return load_settings()
