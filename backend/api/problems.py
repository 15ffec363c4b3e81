"""RFC 9457 problem details for the API: a stable `code`, a French `detail`, optional findings."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import HTTPException

from litestar.openapi import ResponseSpec

from backend.api.schemas import Problem
from backend.lib.errors import CODES, MESSAGES

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ApiProblem(HTTPException):
    """Raised by API handlers; rendered as problem+json by `problem_handler`."""

    def __init__(
        self,
        status_code: int,
        code: str | None = None,
        detail: str | None = None,
        *,
        findings: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=detail or MESSAGES.get(status_code, ""), status_code=status_code, headers=headers)
        self.code = code or CODES.get(status_code, "error")
        self.findings = findings
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": MESSAGES.get(self.status_code, ""),
            "status": self.status_code,
            "code": self.code,
            "detail": self.detail,
        }
        if self.findings is not None:
            body["findings"] = self.findings
        body.update(self.extra)
        return body


def _spec(status: int, description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, description=description, media_type=PROBLEM_MEDIA_TYPE, generate_examples=False)


PROBLEM_RESPONSES = {
    401: _spec(401, "Clé d'API absente ou invalide."),
    403: _spec(403, "La clé n'a pas la permission nécessaire."),
    404: _spec(404, "Introuvable, ou appartenant à une autre structure."),
    409: _spec(409, "Étape impossible depuis le statut actuel, ou requête concurrente."),
    413: _spec(413, "Contenu trop volumineux."),
    422: _spec(422, "Contenu invalide ; `findings` liste les constats."),
    429: _spec(429, "Limite de requêtes atteinte ; voir Retry-After."),
}

