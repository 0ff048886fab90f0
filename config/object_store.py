"""The object store of the photos, as both processes reach it: one blocking boto3 S3 client.

Plain S3 calls only (no vendor extensions), so s3rver here, MinIO in docker-compose and AWS S3
in production differ by configuration alone. boto3 is blocking: the gateway calls these
methods in worker threads (``app.storage``), the worker on its processing thread. Every
failure that is the store's and not the request's (refused connection, timeout, 5xx, throttling)
comes out as :class:`ObjectStoreUnavailableError`, after boto3's own retries with back-off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from config.settings import Settings
from contracts.object_keys import PHOTOS_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The error codes that mean "no such object" (HEAD answers a bare 404).
_MISSING = {"404", "NoSuchKey", "NotFound"}
# Codes that are the store's trouble, not the request's: worth retrying later.
_STORE_SIDE = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}
_DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes
_PROBE_TIMEOUT_SECONDS = 1.0


class ObjectStoreUnavailableError(Exception):
    """The object store did not answer, or answered that it cannot serve now."""


class ObjectNotFoundError(Exception):
    """No object under that key."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


def _client(settings: Settings, endpoint_url: str | None, *, probe: bool = False) -> S3Client:
    """A client of the store; a ``probe`` client tries once, briefly: readiness must answer
    fast whatever the store does."""
    timeout = settings.object_store_timeout_seconds
    attempts = settings.object_store_max_attempts
    if probe:
        timeout, attempts = min(timeout, _PROBE_TIMEOUT_SECONDS), 1
    config = Config(
        region_name=settings.object_store_region,
        signature_version="s3v4",
        # Path-style (http://host:9000/bucket/key): what s3rver and MinIO serve without DNS.
        s3={"addressing_style": "path"},
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": attempts, "mode": "standard"},
        # The gateway calls from several threads at once.
        max_pool_connections=32,
    )
    client: S3Client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        aws_access_key_id=settings.object_store_access_key_id,
        aws_secret_access_key=settings.object_store_secret_access_key.get_secret_value(),
        config=config,
    )
    return client


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


def _translate(exc: Exception) -> Exception:
    """The store's own trouble becomes ObjectStoreUnavailableError; a refusal of the request
    (403, 400) stays a ClientError: a bug or a misconfiguration, not an outage."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        code = str(exc.response.get("Error", {}).get("Code"))
        if status >= 500 or code in _STORE_SIDE:
            return ObjectStoreUnavailableError(f"object store error {code}: {exc}")
        return exc
    return ObjectStoreUnavailableError(f"object store unreachable: {exc}")


class ObjectStore:
    """The bucket of the photos. Thread-safe (boto3 clients are)."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.object_store_bucket
        self._client = _client(settings, settings.object_store_endpoint_url)
        self._probe = _client(settings, settings.object_store_endpoint_url, probe=True)
        # Presigning is local computation; the URLs must name the host phones can reach (the
        # endpoint itself unless a public URL is set).
        self._signer = (
            _client(settings, settings.object_store_public_url)
            if settings.object_store_public_url
            else self._client
        )

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectNotFoundError(kwargs.get("Key", self.bucket)) from exc
            raise _translate(exc) from exc
        except BotoCoreError as exc:
            raise _translate(exc) from exc

    # --- objects ------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self._call("put_object", Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        """The whole object. Raises ObjectNotFoundError or ObjectStoreUnavailableError."""
        response = self._call("get_object", Key=key)
        try:
            data: bytes = response["Body"].read()
        except (BotoCoreError, OSError) as exc:
            raise _translate(exc) from exc
        return data

    def read_head(self, key: str, length: int) -> bytes:
        """The object's first ``length`` bytes (a ranged GET), enough to tell what it is."""
        response = self._call("get_object", Key=key, Range=f"bytes=0-{length - 1}")
        data: bytes = response["Body"].read()
        return data[:length]  # a server that ignores Range sends it all

    def size(self, key: str) -> int:
        """The object's size in bytes (HEAD). Raises ObjectNotFoundError."""
        response = self._call("head_object", Key=key)
        return int(response["ContentLength"])

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; return how many there were."""
        keys = [item.key for item in self.list(prefix)]
        self.delete(keys)
        return len(keys)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            self._call(
                "delete_objects",
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )

    def purge(self, prefix: str, *, written_before: datetime) -> int:
        """Delete the objects under ``prefix`` last written before ``written_before`` (the
        retention job); return how many."""
        expired = [item.key for item in self.list(prefix) if item.last_modified < written_before]
        self.delete(expired)
        return len(expired)

    def list(self, prefix: str, *, page_size: int = _DELETE_BATCH) -> Iterator[StoredObject]:
        """Every object under ``prefix``, a page of ``page_size`` keys per request."""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
            ):
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"], int(item["Size"]), item["LastModified"])
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc

    # --- presigned URLs (no request to the store) ---------------------------------------------
    def presign_get(self, key: str, *, expires_in: int) -> str:
        return self._signer.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def presign_put(self, key: str, *, content_type: str, size_bytes: int, expires_in: int) -> str:
        """A PUT of exactly ``size_bytes`` bytes of ``content_type``: both headers are signed,
        so a client that sends others is refused by a store that checks them (S3, MinIO). The
        gateway still checks the stored size itself before accepting the upload."""
        return self._signer.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size_bytes,
            },
            ExpiresIn=expires_in,
        )

    # --- the bucket ---------------------------------------------------------------------------
    def check_bucket(self) -> None:
        """HEAD the bucket with the usual retries and timeouts; raises ObjectNotFoundError
        (no bucket) or ObjectStoreUnavailableError."""
        self._call("head_bucket")

    def ping(self) -> bool:
        """Whether the bucket answers a HEAD within a second, in one attempt (readiness)."""
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError):
            return False
        return True

    def ensure_bucket(self, *, retention_days: int) -> bool:
        """Create the bucket when missing (private: no ACL, no policy) and set its expiry rule.

        Returns whether the store took the lifecycle rule; s3rver does not implement lifecycle
        rules, so there the purge job (``python -m app.storage purge``) does the expiry alone.
        """
        try:
            self.check_bucket()
        except ObjectNotFoundError:
            try:
                self._call("create_bucket")
            except ClientError as exc:  # created meanwhile by another process: fine
                if exc.response.get("Error", {}).get("Code") not in {
                    "BucketAlreadyOwnedByYou",
                    "BucketAlreadyExists",
                }:
                    raise
        return self._set_expiry(retention_days)

    def _set_expiry(self, retention_days: int) -> bool:
        rule: Any = {
            "ID": "snapmatch-photo-retention",
            "Status": "Enabled",
            "Filter": {"Prefix": PHOTOS_PREFIX},
            "Expiration": {"Days": retention_days},
        }
        try:
            self._client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": [rule]}
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NotImplemented":
                return False
            raise _translate(exc) from exc
        except BotoCoreError as exc:
            raise _translate(exc) from exc
        return True
