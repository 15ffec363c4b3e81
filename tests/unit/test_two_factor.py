"""Two-factor rules: the TOTP window and replay, one-time recovery codes, sealed secrets,
remembered-device cookies (backend/accounts/twofactor.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from cryptography.exceptions import InvalidTag

from backend.accounts import twofactor
from backend.accounts.tables import RecoveryCode, RememberedDevice, TotpSecret, User

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
APP_SECRET = "unit-test-secret-key-that-is-long-enough-0123"
NOW = datetime(2026, 3, 2, 9, 30, 10, tzinfo=timezone.utc)
STEP = int(NOW.timestamp()) // 30


def code_at(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


def test_a_code_of_the_current_step_or_one_step_either_side_is_accepted():
    for step in (STEP - 1, STEP, STEP + 1):
        assert twofactor.matching_step(SECRET, code_at(step), NOW, after_step=0) == step


def test_a_code_two_steps_away_is_refused():
    assert twofactor.matching_step(SECRET, code_at(STEP - 2), NOW, after_step=0) is None
    assert twofactor.matching_step(SECRET, code_at(STEP + 2), NOW, after_step=0) is None


def test_a_code_already_accepted_or_older_is_refused():
    assert twofactor.matching_step(SECRET, code_at(STEP), NOW, after_step=STEP) is None
    assert twofactor.matching_step(SECRET, code_at(STEP - 1), NOW, after_step=STEP) is None
    assert twofactor.matching_step(SECRET, code_at(STEP + 1), NOW, after_step=STEP) == STEP + 1


def test_spaces_are_ignored_and_anything_but_six_digits_is_refused():
    code = code_at(STEP)
    assert twofactor.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW, after_step=0) == STEP
    for wrong in ("", "12345", "1234567", "abcdef", code + "0"):
        assert twofactor.matching_step(SECRET, wrong, NOW, after_step=0) is None


def test_a_sealed_secret_opens_only_with_the_key_and_for_its_user():
    sealed = twofactor.seal(SECRET, APP_SECRET, user_id=7)
    assert SECRET not in sealed
    assert twofactor.unseal(sealed, APP_SECRET, user_id=7) == SECRET
    with pytest.raises(InvalidTag):
        twofactor.unseal(sealed, APP_SECRET, user_id=8)  # copied onto another account
    with pytest.raises(InvalidTag):
        twofactor.unseal(sealed, APP_SECRET + "x", user_id=7)


async def _user() -> User:
    user = User(email="unit@exemple.fr", password_hash="!", first_name="Alex", last_name="Test")
    await user.save()
    return user


async def test_a_confirmed_code_is_accepted_once_then_refused(clean_db):
    user = await _user()
    await TotpSecret.insert(TotpSecret(user=user.id, sealed_secret=twofactor.seal(SECRET, APP_SECRET, user.id),
                                       confirmed_at=NOW, last_step=STEP - 1))
    assert await twofactor.verify_totp(user.id, code_at(STEP), APP_SECRET, now=NOW)
    assert not await twofactor.verify_totp(user.id, code_at(STEP), APP_SECRET, now=NOW)  # replayed
    assert not await twofactor.verify_totp(user.id, code_at(STEP - 1), APP_SECRET, now=NOW)  # older
    assert await twofactor.verify_totp(user.id, code_at(STEP + 1), APP_SECRET, now=NOW + timedelta(seconds=30))


async def test_an_unconfirmed_secret_does_not_log_in(clean_db):
    user = await _user()
    await TotpSecret.insert(TotpSecret(user=user.id, sealed_secret=twofactor.seal(SECRET, APP_SECRET, user.id)))
    assert not await twofactor.verify_totp(user.id, code_at(STEP), APP_SECRET, now=NOW)


async def test_recovery_codes_are_ten_distinct_hashed_and_work_once(clean_db):
    user = await _user()
    codes = await twofactor.new_recovery_codes(user.id)
    assert len(codes) == len(set(codes)) == 10
    stored = await RecoveryCode.select(RecoveryCode.code_hash).where(RecoveryCode.user == user.id)
    assert not {row["code_hash"] for row in stored} & set(codes)  # only hashes are kept
    assert await twofactor.use_recovery_code(user.id, codes[0].upper().replace("-", " "))  # as typed from paper
    assert not await twofactor.use_recovery_code(user.id, codes[0])
    assert await twofactor.recovery_codes_left(user.id) == 9
    fresh = await twofactor.new_recovery_codes(user.id)
    assert not await twofactor.use_recovery_code(user.id, codes[1])  # replaced by the new set
    assert await twofactor.use_recovery_code(user.id, fresh[1])


async def test_a_remembered_device_cookie_works_only_signed_for_its_user_and_before_expiry(clean_db):
    user = await _user()
    other = User(email="other@exemple.fr", password_hash="!", first_name="B", last_name="C")
    await other.save()
    cookie = await twofactor.remember_device(user.id, "Chrome · Android", APP_SECRET)
    assert await twofactor.remembered(user.id, cookie, APP_SECRET)
    assert not await twofactor.remembered(other.id, cookie, APP_SECRET)
    row_id, token, signature = cookie.split(".")
    assert not await twofactor.remembered(user.id, f"{row_id}.{token}x.{signature}", APP_SECRET)
    assert not await twofactor.remembered(user.id, cookie, APP_SECRET + "x")
    assert not await twofactor.remembered(user.id, "garbage", APP_SECRET)
    await RememberedDevice.update({RememberedDevice.expires_at: datetime.now(timezone.utc) - timedelta(seconds=1)}).where(
        RememberedDevice.id == int(row_id))
    assert not await twofactor.remembered(user.id, cookie, APP_SECRET)


def test_device_labels_name_browser_and_system():
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    assert twofactor.device_label(android) == "Chrome · Android"
    assert twofactor.device_label(iphone) == "Safari · iPhone"
    assert twofactor.device_label("") == "Navigateur"
