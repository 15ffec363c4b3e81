"""The French texts of account e-mails, and sending them without failing the request."""

from __future__ import annotations

import logging

from backend.lib.mail import send_mail
from backend.settings import Settings

log = logging.getLogger(__name__)


async def deliver(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send; a mail server outage is logged and reported as False, never a 500."""
    try:
        await send_mail(settings, to, subject, body)
        return True
    except Exception:  # SMTP errors come in many classes; the user gets a "resend" link
        log.exception("could not send mail to %s", to)
        return False


def confirmation(settings: Settings, first_name: str, token: str) -> tuple[str, str]:
    link = f"{settings.base_url}/confirm/{token}"
    return (
        "Facteur — confirmez votre adresse e-mail",
        f"Bonjour {first_name},\n\n"
        f"Pour activer votre compte Facteur, ouvrez ce lien (valable 48 heures, une seule fois) :\n\n{link}\n\n"
        "Si vous n'avez pas créé de compte, ignorez ce message.\n",
    )


def password_reset(settings: Settings, first_name: str, token: str) -> tuple[str, str]:
    link = f"{settings.base_url}/password/reset/{token}"
    return (
        "Facteur — réinitialisation du mot de passe",
        f"Bonjour {first_name},\n\n"
        f"Pour choisir un nouveau mot de passe, ouvrez ce lien (valable 1 heure, une seule fois) :\n\n{link}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.\n",
    )


def join_request(settings: Settings, requester: str, structure_name: str, structure_id: int) -> tuple[str, str]:
    return (
        f"Facteur — demande de rattachement à {structure_name}",
        f"Bonjour,\n\n{requester} demande à rejoindre la structure {structure_name}.\n"
        f"Acceptez ou refusez la demande ici :\n\n{settings.base_url}/structures/{structure_id}/members\n",
    )


def join_decision(settings: Settings, structure_name: str, accepted: bool) -> tuple[str, str]:
    verdict = "acceptée" if accepted else "refusée"
    return (
        f"Facteur — demande de rattachement {verdict}",
        f"Bonjour,\n\nVotre demande de rattachement à la structure {structure_name} a été {verdict}.\n"
        + (f"Vous pouvez y accéder dès maintenant : {settings.base_url}/\n" if accepted else ""),
    )


def invitation(settings: Settings, structure_name: str, token: str | None) -> tuple[str, str]:
    if token is None:
        return (
            f"Facteur — vous avez été ajouté à {structure_name}",
            f"Bonjour,\n\nUn gestionnaire vous a ajouté à la structure {structure_name} sur Facteur.\n"
            f"Elle apparaît dans votre compte : {settings.base_url}/account\n",
        )
    return (
        f"Facteur — invitation à rejoindre {structure_name}",
        f"Bonjour,\n\nUn gestionnaire vous invite à rejoindre la structure {structure_name} sur Facteur.\n"
        f"Choisissez votre mot de passe avec ce lien (valable 48 heures, une seule fois) :\n\n"
        f"{settings.base_url}/password/reset/{token}\n",
    )


def two_factor_reset(settings: Settings, first_name: str, manager_name: str, structure_name: str) -> tuple[str, str]:
    return (
        "Facteur — votre double authentification a été réinitialisée",
        f"Bonjour {first_name},\n\n{manager_name}, gestionnaire de {structure_name}, a réinitialisé la double "
        "authentification de votre compte Facteur : votre application d'authentification, vos clés d'accès, "
        "vos codes de secours et vos appareils mémorisés ont été retirés, et vos sessions ouvertes fermées.\n\n"
        f"À votre prochaine connexion, configurez-la de nouveau : {settings.base_url}/login\n\n"
        "Si vous n'avez rien demandé, prévenez sans attendre les gestionnaires de votre structure.\n",
    )
