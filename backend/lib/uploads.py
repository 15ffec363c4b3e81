"""Files sent in a multipart form, as every domain reads them."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import UploadFile


@dataclass
class Upload:
    filename: str
    data: bytes


async def read_uploads(request: Request, field: str) -> list[Upload]:
    """The non-empty file parts named `field` of a multipart form (an empty file input sends none)."""
    form = await request.form()
    parts = [p for p in form.getall(field) if isinstance(p, UploadFile) and p.filename] if field in form else []
    return [Upload(filename=p.filename, data=await p.read()) for p in parts]
