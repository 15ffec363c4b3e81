"""API keys of structures (technical accounts), the idempotency records of API POSTs, and
supporting documents sent ahead to be named by reference."""

from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.directory.tables import Structure


class ApiKey(Table):
    """A key shown once; only the SHA-256 of the secret is stored (it has 256 random bits,
    so a slow password hash would add nothing but latency on every request)."""

    structure = ForeignKey(references=Structure, index=True)
    name = Varchar(length=100)
    prefix = Varchar(length=16)  # shown in lists to recognise a key
    key_hash = Varchar(length=64, unique=True, index=True)
    scopes = Varchar(length=100)  # comma-separated, sorted
    created_by = Integer(null=True, default=None)  # user id; None from the CLI
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class IdempotencyRecord(Table):
    """The first answer to a POST carrying an Idempotency-Key, replayed for retries.

    (api_key, key) is unique (hand-written migration): two concurrent duplicates cannot
    both insert, so only one executes."""

    api_key = ForeignKey(references=ApiKey, index=True)
    key = Varchar(length=255)
    request_hash = Varchar(length=64)
    status_code = Integer(null=True, default=None)  # None while the first request runs
    response_body = Text(null=True, default=None)
    content_type = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # Who holds the key while it runs, until when (renewed by a heartbeat; a retry takes over
    # a lease that ran out), and what it committed (written in the committing transaction).
    owner = Varchar(length=16, default="")
    lease_until = Timestamptz(null=True, default=None)
    effect_kind = Varchar(length=20, null=True, default=None)
    effect_id = BigInt(null=True, default=None)


class ApiUpload(Table):
    """A supporting document sent ahead (`POST /api/v1/attachments`), then named by its id in
    an invoice or a completion: an ERP sends each file once, in binary, instead of base64
    inside JSON. The bytes are in the content-addressed file store; the id is random, and
    only its structure may use it."""

    public_id = Varchar(length=40, unique=True, index=True)
    structure = ForeignKey(references=Structure, index=True)
    filename = Varchar(length=255)
    media_type = Varchar(length=50)
    size = BigInt()
    digest = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
