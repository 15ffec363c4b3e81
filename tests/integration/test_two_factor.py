"""Two-factor login through the pages: enrolment, the second step, recovery codes, remembered
devices, throttling, and the reset of a lost factor by another gestionnaire.

These run with FACTEUR_TWO_FACTOR=optional (tests/conftest.py); the "managers" policy is in
test_two_factor_policy.py.
"""

from __future__ import annotations

from datetime import timedelta

from backend.accounts import twofactor_controllers
from backend.accounts.tables import Membership, RememberedDevice, SecurityEvent, User
from backend.directory.tables import Structure
from backend.lib.common import utcnow
from tests.support.two_factor import enrol_totp, recovery_codes_in, second_step
from tests.support.web import csrf_from, last_mail_to, link_in, post_form


async def test_enrolment_shows_qr_code_manual_key_and_ten_recovery_codes_once(client, accounts):
    await accounts.registered()
    started = await post_form(client, "/account/security", "/account/security/totp", {})
    assert "<svg" in started.text and "data-manual-key" in started.text
    assert "</svg>" in started.text and "http" not in started.text.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", "")  # drawn here: no image fetched from a QR-code service
    wrong = await client.post("/account/security/totp/confirm", data={"code": "000000", "_csrf_token": csrf_from(started.text)})
    assert wrong.status_code == 422 and "pas valide" in wrong.text and "data-manual-key" in wrong.text
    _, codes = await enrol_totp(client)
    assert len(codes) == 10
    security = await client.get("/account/security")
    assert "activée" in security.text and not recovery_codes_in(security.text)  # shown once only
    assert "10 codes inutilisés sur 10" in security.text


async def test_login_asks_for_the_code_and_is_not_signed_in_before(client, accounts):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    asked = await accounts.login(person)
    assert str(asked.url).endswith("/login/second-factor") and "Vérification en deux étapes" in asked.text
    home = await client.get("/", follow_redirects=False)
    assert home.status_code in (302, 303) and home.headers["location"].startswith("/login")  # only half signed in
    wrong = await second_step(client, {"method": "totp", "code": "123456"})
    assert wrong.status_code == 401 and "pas valide" in wrong.text
    code = app.next_code()
    passed = await second_step(client, {"method": "totp", "code": code})
    assert passed.status_code == 200 and str(passed.url).endswith("/")
    assert (await client.get("/account")).status_code == 200
    await accounts.logout()
    await accounts.login(person)
    replayed = await second_step(client, {"method": "totp", "code": code})
    assert replayed.status_code == 401  # a code already used never opens a second session


async def test_a_recovery_code_signs_in_once(client, accounts):
    person = await accounts.registered()
    _, codes = await enrol_totp(client)
    await accounts.logout()
    await accounts.login(person)
    used = await second_step(client, {"method": "recovery", "recovery_code": codes[0].upper()})
    assert used.status_code == 200 and "Il vous reste 9 codes inutilisés" in used.text
    await accounts.logout()
    await accounts.login(person)
    again = await second_step(client, {"method": "recovery", "recovery_code": codes[0]})
    assert again.status_code == 401 and "déjà servi" in again.text
    assert await SecurityEvent.exists().where(SecurityEvent.kind == "recovery_code_used")


async def test_wrong_codes_are_throttled_per_account(client, accounts):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    await accounts.login(person)
    for _ in range(5):
        assert (await second_step(client, {"method": "totp", "code": "000000"})).status_code == 401
    blocked = await second_step(client, {"method": "totp", "code": app.next_code()})
    assert blocked.status_code == 429 and "Trop de codes erronés" in blocked.text
    assert (await client.get("/account", follow_redirects=False)).status_code in (302, 303)


async def test_the_second_step_expires(client, accounts, monkeypatch):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    monkeypatch.setattr(twofactor_controllers, "PENDING_SECONDS", -1)  # the five minutes have passed
    await accounts.login(person)
    late = await client.post("/login/second-factor", data={"method": "totp", "code": app.next_code(), "_csrf_token": csrf_from((await client.get("/login")).text)})
    assert str(late.url).endswith("/login") and "Votre connexion a expiré" in late.text
    assert (await client.get("/account", follow_redirects=False)).status_code in (302, 303)


async def test_a_remembered_device_skips_the_second_step_until_it_expires_or_is_forgotten(client, accounts):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    await accounts.login(person)
    await second_step(client, {"method": "totp", "code": app.next_code(), "remember": "on"})
    await accounts.logout()
    direct = await accounts.login(person)
    assert str(direct.url).endswith("/") and direct.status_code == 200  # no second step on this device
    security = await client.get("/account/security")
    assert "Appareils mémorisés" in security.text and security.text.count("data-device-row") == 1

    device = await RememberedDevice.objects().first()
    await RememberedDevice.update({RememberedDevice.expires_at: utcnow() - timedelta(seconds=1)}).where(RememberedDevice.id == device.id)
    await accounts.logout()
    assert str((await accounts.login(person)).url).endswith("/login/second-factor")  # 30 days later


async def test_forgetting_a_device_in_the_profile_asks_again(client, accounts):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    await accounts.login(person)
    await second_step(client, {"method": "totp", "code": app.next_code(), "remember": "on"})
    device = await RememberedDevice.objects().first()
    await post_form(client, "/account/security", f"/account/security/devices/{device.id}/forget", {})
    assert not await RememberedDevice.exists().where(RememberedDevice.id == device.id)
    await accounts.logout()
    assert str((await accounts.login(person)).url).endswith("/login/second-factor")


async def test_a_password_reset_forgets_remembered_devices(client, accounts, settings):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    await accounts.login(person)
    await second_step(client, {"method": "totp", "code": app.next_code(), "remember": "on"})
    await accounts.logout()
    await post_form(client, "/password/forgot", "/password/forgot", {"email": person.email})
    link = link_in(last_mail_to(settings.mailbox_dir, person.email), "/password/reset/")
    person.password = "un-tout-nouveau-mot-de-passe"
    await post_form(client, link, link, {"password": person.password})
    assert not await RememberedDevice.exists().where(RememberedDevice.user.email == person.email)
    assert str((await accounts.login(person)).url).endswith("/login/second-factor")


async def test_disabling_needs_the_password_and_removes_everything(client, accounts):
    person = await accounts.registered()
    await enrol_totp(client)
    wrong = await post_form(client, "/account/security", "/account/security/disable", {"password": "pas-le-bon-mot-de-passe"})
    assert wrong.status_code == 403 and "Mot de passe incorrect" in wrong.text
    done = await post_form(client, "/account/security", "/account/security/disable", {"password": person.password})
    assert done.status_code == 200 and "désactivée" in done.text
    await accounts.logout()
    assert str((await accounts.login(person)).url).endswith("/")  # password only again


async def _second_manager(client, accounts, person):
    """A second gestionnaire of `person`'s structure, invited by them; returns (structure, their person, membership)."""
    structure = await Structure.objects().get(Structure.siret == person.siret)
    other = accounts.person(siret=person.siret)
    await accounts.logout()
    assert (await accounts.signup(other)).status_code == 201
    await accounts.confirm(other)  # a join request to the structure
    await accounts.login(person)
    membership = await Membership.objects().get(Membership.user.email == other.email)
    await post_form(client, f"/structures/{structure.id}/members", f"/structures/{structure.id}/requests/{membership.id}/accept", {})
    await post_form(client, f"/structures/{structure.id}/members", f"/structures/{structure.id}/members/{membership.id}/rights",
                    {"is_manager": "on", "can_deposit": "on"})
    return structure, other, membership


async def test_another_gestionnaire_resets_a_lost_second_factor(client, accounts, settings):
    first = await accounts.registered()
    structure, second, membership = await _second_manager(client, accounts, first)
    await accounts.logout()
    await accounts.login(second)
    await enrol_totp(client)
    second_user = await User.objects().get(User.email == second.email)
    await accounts.logout()

    await accounts.login(first)
    members = await client.get(f"/structures/{structure.id}/members")
    assert f"/members/{membership.id}/two-factor-reset" in members.text
    reset = await post_form(client, f"/structures/{structure.id}/members", f"/structures/{structure.id}/members/{membership.id}/two-factor-reset", {})
    assert reset.status_code == 200 and "réinitialisée" in reset.text
    mail = last_mail_to(settings.mailbox_dir, second.email)
    assert "réinitialisée" in mail["Subject"] and "Alex Test" in mail.get_content()
    event = await SecurityEvent.objects().get((SecurityEvent.user == second_user.id) & (SecurityEvent.kind == "reset_by_manager"))
    assert event.actor is not None and event.structure == structure.id
    assert (await User.objects().get(User.id == second_user.id)).session_epoch == second_user.session_epoch + 1

    own = await Membership.objects().get((Membership.user.email == first.email) & (Membership.structure == structure.id))
    refused = await post_form(client, f"/structures/{structure.id}/members", f"/structures/{structure.id}/members/{own.id}/two-factor-reset", {})
    assert refused.status_code == 409 and "propre double authentification" in refused.text

    await accounts.logout()
    assert str((await accounts.login(second)).url).endswith("/")  # no factor left: re-enrols when they wish (optional here)


async def test_a_gestionnaire_of_another_structure_cannot_reset(client, accounts):
    victim = await accounts.registered()
    _, _codes = await enrol_totp(client)
    victim_membership = await Membership.objects().get(Membership.user.email == victim.email)
    await accounts.logout()
    await accounts.registered()  # gestionnaire of their own structure only
    theirs = await Structure.objects().get(Structure.id == victim_membership.structure)
    answer = await post_form(client, "/account", f"/structures/{theirs.id}/members/{victim_membership.id}/two-factor-reset", {})
    assert answer.status_code == 404
    assert not await SecurityEvent.exists().where(SecurityEvent.kind == "reset_by_manager")


async def _json_post(client, path: str, body: bytes | str, page: str = "/account/security"):
    token = csrf_from((await client.get(page)).text)
    return await client.post(path, content=body, headers={"x-csrftoken": token, "content-type": "application/json",
                                                         "accept": "application/json"})


async def test_passkey_answers_that_make_no_sense_get_a_french_problem_never_a_500(client, accounts):
    await accounts.registered()
    options = await _json_post(client, "/account/security/passkeys/options", "{}")
    assert options.status_code == 200 and options.json()["rp"]["name"] == "Facteur"
    for body in (b"not json", b'{"credential": 3}', '{"name": "Clé", "credential": {"id": "x", "response": {}}}'):
        answer = await _json_post(client, "/account/security/passkeys", body)
        assert answer.status_code in (400, 422), body
        assert answer.headers["content-type"].startswith("application/problem+json") and answer.json()["detail"]
    nameless = await _json_post(client, "/account/security/passkeys", b'{"name": " ", "credential": {}}')
    assert nameless.status_code == 422 and nameless.json()["code"] == "invalid"
    assert not await SecurityEvent.exists().where(SecurityEvent.kind == "passkey_added")


async def test_the_passkey_step_of_the_login_needs_a_pending_login_and_a_real_signature(client, accounts):
    person = await accounts.registered()
    app, _ = await enrol_totp(client)
    await accounts.logout()
    outside = await _json_post(client, "/login/second-factor/passkey", b'{"credential": {}}', page="/login")
    assert outside.status_code == 401 and outside.json()["code"] == "login_expired"
    await accounts.login(person)
    no_key = await _json_post(client, "/login/second-factor/passkey/options", b"{}", page="/login/second-factor")
    assert no_key.status_code == 409 and no_key.json()["code"] == "no_passkey"  # this account has only the app
    forged = await _json_post(client, "/login/second-factor/passkey", b'{"credential": {"id": "AAAA", "rawId": "AAAA"}}',
                              page="/login/second-factor")
    assert forged.status_code == 401 and forged.json()["code"] == "passkey_refused"
    assert (await client.get("/account", follow_redirects=False)).status_code in (302, 303)
    assert (await second_step(client, {"method": "totp", "code": app.next_code()})).status_code == 200
