"""The gestionnaire's API key pages: list, create (the key shown once), revoke."""

from __future__ import annotations

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from backend.accounts.spaces import MANAGER, space
from backend.accounts.memberships import managed_structure
from backend.api import keys
from backend.api.auth import SCOPE_LABELS, SCOPES
from backend.directory.tables import Structure
from backend.lib.web import CurrentUser, flash, page, require_user


async def _page(request: Request, structure: Structure, *, new_key=None, error: str | None = None,
                form: dict | None = None, status: int = 200) -> Template:
    scopes = [s for s in SCOPES if s != "process" or structure.is_public]
    return page(request, "api/keys.html", status_code=status, structure=structure, keys=await keys.list_keys(structure.id),
                scopes=scopes, scope_labels=SCOPE_LABELS, new_key=new_key, error=error, form=form or {})


@get("/structures/{structure_id:int}/api-keys")
async def keys_page(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    return await _page(request, await managed_structure(current.id, structure_id))


@post("/structures/{structure_id:int}/api-keys")
async def key_create(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int]) -> Template:
    structure = await managed_structure(current.id, structure_id)
    form = await request.form()
    name = str(form.get("name", ""))
    chosen = [str(v) for v in form.getall("scopes")] if "scopes" in form else []
    try:
        new_key = await keys.create_key(structure, name, keys.parse_scopes(chosen), current.id)
    except keys.KeyError_ as exc:
        return await _page(request, structure, error=str(exc), form={"name": name, "scopes": chosen}, status=422)
    # Rendered, not redirected: the secret must never sit in a session or a URL.
    return await _page(request, structure, new_key=new_key, status=201)


@post("/structures/{structure_id:int}/api-keys/{key_id:int}/revoke")
async def key_revoke(request: Request, current: NamedDependency[CurrentUser], structure_id: FromPath[int], key_id: FromPath[int]) -> Redirect:
    await managed_structure(current.id, structure_id)
    if await keys.revoke_key(structure_id, key_id):
        flash(request, "La clé est révoquée : elle ne donne plus accès à l'API.", "success")
    return Redirect(f"/structures/{structure_id}/api-keys")


router = Router(opt=space(MANAGER), path="/", dependencies={"current": Provide(require_user)}, route_handlers=[keys_page, key_create, key_revoke])
