"""Posted forms: text a person or program sends in an encoding we cannot read is their mistake (400), not ours."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.exceptions import ClientException

UNREADABLE_FORM = ("Un champ de texte du formulaire n'est pas encodé en UTF-8 : Facteur ne peut pas le lire. "
                   "Renvoyez le formulaire depuis la page de Facteur, ou réglez votre logiciel pour qu'il envoie de l'UTF-8.")


class UnreadableForm(ClientException):
    """A form field whose bytes are not text in the declared (or default UTF-8) charset."""

    status_code = 400


class FormRequest(Request):
    """The app's requests (its request_class, so the CSRF check reading the form uses it too).

    Litestar decodes every multipart text field while parsing the body and lets a
    UnicodeDecodeError (bad bytes) or LookupError (unknown charset) escape as a 500.
    """

    async def form(self) -> FormMultiDict:
        try:
            return await super().form()
        except (UnicodeDecodeError, LookupError):
            raise UnreadableForm(UNREADABLE_FORM) from None
