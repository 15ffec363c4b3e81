import asyncio

from backend.accounts import passwords


def test_production_hashes_are_argon2id_with_the_library_defaults():
    hashed = asyncio.run(passwords.hash_password("un mot de passe solide"))
    assert hashed.startswith("$argon2id$")
    assert "m=65536,t=3,p=4" in hashed  # argon2-cffi's RFC 9106 "low memory" profile
    assert asyncio.run(passwords.verify_password(hashed, "un mot de passe solide"))
    assert not asyncio.run(passwords.verify_password(hashed, "un autre mot de passe"))


def test_unknown_account_and_unusable_hash_never_verify():
    assert not asyncio.run(passwords.verify_password(None, "facteur-dummy-password-for-timing"))
    assert not asyncio.run(passwords.verify_password("!", "!"))
