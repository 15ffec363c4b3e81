from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import AccountToken, Membership, User
from backend.directory.tables import Structure
from tests.support.accounts import valid_siret
from tests.support.web import csrf_from, last_mail_to, link_in, post_form


async def test_signup_creates_structure_and_manager_then_confirm_and_login(client, accounts, settings):
    person = accounts.person()
    response = await accounts.signup(person)
    assert response.status_code == 201
    assert "Vérifiez votre boîte e-mail" in response.text

    # Not confirmed yet: the account cannot log in.
    refused = await accounts.login(person)
    assert refused.status_code == 403
    assert "Confirmez" in refused.text

    confirmed = await accounts.confirm(person)
    assert confirmed.status_code == 200 and "confirmée" in confirmed.text

    logged = await accounts.login(person)
    assert logged.status_code == 200
    home = await client.get("/")
    assert home.status_code == 200
    assert "Menuiserie Test" in home.text

    structure = await Structure.objects().get(Structure.siret == person.siret)
    assert structure.siren == person.siret[:9]
    membership = await Membership.objects().get(Membership.structure == structure.id)
    assert membership.status == "active" and membership.is_manager and membership.can_deposit


async def test_invalid_siret_short_password_and_bad_email_create_nothing(client, accounts):
    person = accounts.person(siret="12345678901234")
    response = await post_form(client, "/signup", "/signup", {
        "company_name": "X", "siret": "12345678901234", "first_name": "A", "last_name": "B",
        "email": "pas-un-email", "password": "court",
    })
    assert response.status_code == 422
    assert "clé de contrôle" in response.text
    assert "12 caractères" in response.text
    assert "adresse e-mail n&#39;est pas valide" in response.text or "adresse e-mail n'est pas valide" in response.text
    assert await User.count() == 0
    assert await Structure.count() == 0
    assert person.password not in response.text


async def test_duplicate_email_is_refused_case_insensitively(client, accounts):
    person = await accounts.registered()
    await accounts.logout()
    twin = accounts.person()
    twin.email = person.email.upper()
    response = await accounts.signup(twin)
    assert response.status_code == 422
    assert "existe déjà" in response.text
    assert await User.count() == 1
    assert await Structure.count() == 1


async def test_confirmation_link_is_single_use(client, accounts):
    person = accounts.person()
    await accounts.signup(person)
    assert (await accounts.confirm(person)).status_code == 200
    again = await accounts.confirm(person)
    assert again.status_code == 410
    assert "déjà été utilisé" in again.text


async def test_expired_confirmation_link_is_refused(client, accounts, settings):
    person = accounts.person()
    await accounts.signup(person)
    await AccountToken.update({AccountToken.expires_at: AccountToken.created_at - timedelta(seconds=1)}).where(
        AccountToken.purpose == "confirm"
    )
    response = await accounts.confirm(person)
    assert response.status_code == 410
    assert "expiré" in response.text
    assert (await accounts.login(person)).status_code == 403


async def test_forged_csrf_token_is_refused_and_creates_nothing(client):
    await client.get("/signup")
    response = await client.post("/signup", data={
        "company_name": "X", "siret": valid_siret(), "first_name": "A", "last_name": "B",
        "email": "x@exemple.fr", "password": "mot-de-passe-solide", "_csrf_token": "forged",
    })
    assert response.status_code == 403
    assert "formulaire a expiré" in response.text
    assert await User.count() == 0


async def test_missing_csrf_token_is_refused(client):
    response = await client.post("/login", data={"email": "a@b.fr", "password": "x" * 12})
    assert response.status_code == 403


async def test_same_message_for_unknown_email_and_wrong_password(client, accounts):
    person = await accounts.registered()
    await accounts.logout()
    wrong = await post_form(client, "/login", "/login", {"email": person.email, "password": "mauvais-mot-de-passe"})
    unknown = await post_form(client, "/login", "/login", {"email": "inconnu@exemple.fr", "password": "mauvais-mot-de-passe"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in wrong.text
    assert "Adresse e-mail ou mot de passe incorrect." in unknown.text


async def test_repeated_failures_block_the_account_even_with_the_right_password(client, accounts):
    person = await accounts.registered()
    await accounts.logout()
    for _ in range(5):
        await post_form(client, "/login", "/login", {"email": person.email, "password": "mauvais-mot-de-passe"})
    blocked = await accounts.login(person)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text


async def test_session_id_changes_at_login_and_session_dies_at_logout(client, accounts):
    person = accounts.person()
    await accounts.signup(person)
    await accounts.confirm(person)
    await client.get("/login")
    before = client.cookies.get("facteur_session")
    await accounts.login(person)
    after = client.cookies.get("facteur_session")
    assert after and after != before
    assert (await client.get("/account")).status_code == 200
    await accounts.logout()
    client.cookies.set("facteur_session", after)  # replaying the old cookie gives nothing
    response = await client.get("/account", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"].startswith("/login")


async def test_session_cookie_flags(client, accounts):
    person = accounts.person()
    await accounts.signup(person)
    await accounts.confirm(person)
    page = await client.get("/login")
    response = await client.post("/login", data={"email": person.email, "password": person.password, "_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("facteur_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http base URL: Secure would break local use


async def test_password_reset_flow_single_use(client, accounts, settings):
    person = await accounts.registered()
    await accounts.logout()
    await post_form(client, "/password/forgot", "/password/forgot", {"email": person.email})
    link = link_in(last_mail_to(settings.mailbox_dir, person.email), "/password/reset/")
    short = await post_form(client, link, link, {"password": "court"})
    assert short.status_code == 422 and "12 caractères" in short.text
    done = await post_form(client, link, link, {"password": "un-nouveau-mot-de-passe"})
    assert done.status_code == 200 and "mot de passe a été changé" in done.text
    reused = await client.get(link)
    assert reused.status_code == 410
    person.password = "un-nouveau-mot-de-passe"
    assert (await accounts.login(person)).status_code == 200


async def test_open_redirect_after_login_is_refused(client, accounts):
    person = accounts.person()
    await accounts.signup(person)
    await accounts.confirm(person)
    page = await client.get("/login")
    response = await client.post("/login", data={"email": person.email, "password": person.password, "next": "//evil.example/", "_csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.headers["location"] == "/"


async def test_a_new_confirmation_link_can_be_asked_for(client, accounts, settings):
    person = accounts.person()
    await accounts.signup(person)
    first = link_in(last_mail_to(settings.mailbox_dir, person.email), "/confirm/")
    answer = await post_form(client, "/confirm-resend", "/confirm-resend", {"email": person.email})
    unknown = await post_form(client, "/confirm-resend", "/confirm-resend", {"email": "personne@exemple.fr"})
    assert answer.text.count("Si un compte non confirmé existe") == unknown.text.count("Si un compte non confirmé existe") == 1
    message = last_mail_to(settings.mailbox_dir, person.email)
    second = link_in(message, "/confirm/")
    assert second != first and "Bonjour Alex," in message.get_body(preferencelist=("plain",)).get_content()
    assert (await post_form(client, second, second, {})).status_code == 200


async def test_a_company_name_the_pdf_cannot_print_is_refused_at_sign_up(client, accounts):
    person = accounts.person(company="Plomberie 🚀 Express")
    response = await accounts.signup(person)
    assert response.status_code == 422
    assert "La raison sociale contient un caractère que la facture PDF ne peut pas imprimer : 🚀." in response.text
    assert await User.count() == 0 and await Structure.count() == 0
    accepted = await accounts.signup(accounts.person(company="Ærø Plomberie — Ελλάς"))
    assert accepted.status_code == 201
