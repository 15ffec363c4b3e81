"""VAPID keys: generated once per data folder even by processes starting together, or read from the environment."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.notifications import vapid

ROOT = Path(__file__).resolve().parents[2]


def test_generated_once_and_read_back(tmp_path):
    first = vapid.load_keys(tmp_path, private=None, public=None, subject=None, default_subject="mailto:a@b.fr")
    again = vapid.load_keys(tmp_path, private=None, public=None, subject=None, default_subject="mailto:a@b.fr")
    assert first == again and len(vapid.b64url_decode(first.public_key)) == 65
    assert (tmp_path / vapid.KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path):
    code = ("import sys; from pathlib import Path; from backend.notifications import vapid; "
            "print(vapid.load_keys(Path(sys.argv[1]), private=None, public=None, subject=None, default_subject='mailto:a@b.fr').public_key)")
    processes = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
                 for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert len(keys) == 1 and "" not in keys
    assert [p.name for p in tmp_path.iterdir()] == [vapid.KEY_FILE]  # no temporary file left behind


def test_keys_from_the_environment_raw_or_pem(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    raw = vapid.b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    public = vapid.public_key_of(key)
    from_raw = vapid.load_keys(tmp_path, private=raw, public=public, subject="https://facteur.example.fr/contact", default_subject="x")
    assert from_raw.public_key == public and from_raw.subject == "https://facteur.example.fr/contact"
    from_pem = vapid.load_keys(tmp_path, private=from_raw.private_pem, public=public, subject=None, default_subject="mailto:a@b.fr")
    assert from_pem.public_key == public
    assert not (tmp_path / vapid.KEY_FILE).exists()  # nothing generated when the environment gives keys


@pytest.mark.parametrize("private, public, subject, variable", [
    ("abc", None, None, "FACTEUR_VAPID_PRIVATE_KEY et FACTEUR_VAPID_PUBLIC_KEY"),
    ("pas-une-cle", "BAAA", None, "FACTEUR_VAPID_PRIVATE_KEY"),
    (None, None, "contact@facteur.fr", "FACTEUR_VAPID_SUBJECT"),
])
def test_bad_values_name_the_variable(tmp_path, private, public, subject, variable):
    with pytest.raises(vapid.VapidError, match=variable):
        vapid.load_keys(tmp_path, private=private, public=public, subject=subject, default_subject="mailto:a@b.fr")


def test_a_public_key_that_does_not_match_is_refused(tmp_path):
    raw = vapid.b64url(ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big"))
    other = vapid.public_key_of(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(vapid.VapidError, match="ne correspond pas"):
        vapid.load_keys(tmp_path, private=raw, public=other, subject=None, default_subject="mailto:a@b.fr")


def test_token_names_the_origin_with_its_port_and_expires_within_a_day(tmp_path):
    keys = vapid.load_keys(tmp_path, private=None, public=None, subject=None, default_subject="mailto:a@b.fr")
    header = vapid.TokenCache(keys).authorization("http://127.0.0.1:8123/push/abc")
    token = header.split("t=", 1)[1].split(",", 1)[0]
    assert header.endswith(f"k={keys.public_key}")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), vapid.b64url_decode(keys.public_key))
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="http://127.0.0.1:8123")
    assert claims["sub"] == "mailto:a@b.fr" and time.time() < claims["exp"] <= time.time() + 24 * 3600


def test_settings_read_the_variables_and_name_a_bad_one(monkeypatch, tmp_path):
    from backend.settings import SettingsError, load_settings

    monkeypatch.setenv("FACTEUR_DATA_DIR", str(tmp_path))
    key = ec.generate_private_key(ec.SECP256R1())
    monkeypatch.setenv("FACTEUR_VAPID_PRIVATE_KEY", vapid.b64url(key.private_numbers().private_value.to_bytes(32, "big")))
    monkeypatch.setenv("FACTEUR_VAPID_PUBLIC_KEY", vapid.public_key_of(key))
    monkeypatch.setenv("FACTEUR_VAPID_SUBJECT", "mailto:support@facteur.fr")
    settings = load_settings()
    assert (settings.vapid_public_key, settings.vapid_subject) == (vapid.public_key_of(key), "mailto:support@facteur.fr")
    monkeypatch.setenv("FACTEUR_VAPID_SUBJECT", "support")
    with pytest.raises(SettingsError, match="FACTEUR_VAPID_SUBJECT"):
        load_settings()
