"""Presigned URLs and forms under temporary credentials: they live no longer than
the credentials that sign them, and each is signed by one consistent set.

Before, a part URL of an hour on a key with 906 s left failed with 403
mid-upload, after 906 s; nothing said so.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import botocore.session
import pytest
from botocore.credentials import RefreshableCredentials

from sigv4_storage import SigV4S3Storage, presign
from tests.util import on_role, verify_presigned_url

DAY_KEY = "secret-for-"


def secret_of(access_key: str) -> str:
    """Each rotation's secret differs: a URL signed with another rotation's fails."""
    return DAY_KEY + access_key


def rotating(seconds_left: float):
    """botocore credentials as an assumed role hands them out: each refresh a new
    key and secret, expiring ``seconds_left`` after it."""
    numbers = itertools.count()

    def refresh():
        access_key = f"ASIAROTATION{next(numbers):06d}"
        ends = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds_left)
        return {
            "access_key": access_key,
            "secret_key": secret_of(access_key),
            "token": "session-token-" + access_key,
            "expiry_time": ends.isoformat(),
        }

    return RefreshableCredentials.create_from_metadata(refresh(), refresh, "sts-assume-role")


@pytest.fixture
def on_aws(settings, credentials, no_network):
    settings.AWS_STORAGE_BUCKET_NAME = "media-bucket"
    settings.AWS_S3_REGION_NAME = "eu-central-1"
    settings.AWS_S3_DISCOVER_REGION = False
    settings.AWS_QUERYSTRING_EXPIRE = 3600


def expires_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])


def policy_ends(form: dict) -> float:
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    return (
        dt.datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")
        .replace(tzinfo=dt.timezone.utc)
        .timestamp()
    )


def verify_post(form: dict) -> str:
    """Recompute a presigned POST's signature with the secret of the key it names;
    the key, or AssertionError."""
    fields = form["fields"]
    access_key, date, region, service, _ = fields["x-amz-credential"].split("/")
    key = ("AWS4" + secret_of(access_key)).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["x-amz-signature"]), access_key
    return access_key


def test_the_expiry_is_read_where_botocore_keeps_it():
    """``presign.expiry`` reads botocore's private ``_expiry_time``: held here to
    botocore's behaviour, so a botocore that keeps it elsewhere fails this test."""
    ends = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    credentials = RefreshableCredentials.create_from_metadata(
        {"access_key": "A", "secret_key": "S", "token": "T", "expiry_time": ends.isoformat()},
        lambda: {},
        "sts-assume-role",
    )
    assert presign.expiry(credentials) == ends.timestamp()
    static = botocore.credentials.Credentials("A", "S")
    assert presign.expiry(static) is None


def test_urls_live_no_longer_than_their_credentials(on_aws):
    """906 s left on the key, an hour asked: every URL and form says at most 906 s,
    on the fast signer and on botocore's; the signature verifies."""
    storage = on_role(rotating(906))
    fast = storage.url("a.txt")
    assert 890 <= expires_of(fast) <= 906
    verified = verify_presigned_url(fast, secret_key=secret_of(access_key_of(fast)))
    assert verified.expires == expires_of(fast)
    assert 890 <= expires_of(storage.url("a.txt", expire=7200)) <= 906
    assert expires_of(storage.url("a.txt", expire=60)) == 60  # shorter: as asked
    # Parameters the fast signer does not cover: botocore signs (django-storages' url()).
    ends = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    slow = storage.url("a.txt", parameters={"ResponseExpires": ends})
    assert "response-expires=" in slow and 890 <= expires_of(slow) <= 906
    form = storage.presigned_post("up/a.png", max_size=10, content_type="image/png")
    assert policy_ends(form) <= time.time() + 906
    verify_post(form)
    started = storage.presigner().part_urls("up/big.bin", "upload-1", [5, 5], 3600)
    assert all(890 <= expires_of(url) <= 906 for url in started)


def test_long_lived_credentials_keep_the_lifetime_asked(on_aws):
    storage = SigV4S3Storage()
    assert expires_of(storage.url("a.txt")) == 3600
    assert expires_of(storage.url("a.txt", expire=7 * 86400)) == 7 * 86400


def access_key_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].split("/")[0]


def test_no_url_is_signed_with_a_torn_read_of_rotating_credentials(on_aws):
    """32 threads sign URLs, POST forms and part URLs while botocore rotates the key (each
    refresh a new key and secret, about 610 s from expiry: an advisory refresh on
    nearly every read). Every signature verifies with the secret of the key it
    names: keys, secret and token come from one frozen read."""
    storage = on_role(rotating(610))
    signed: list[tuple[str, object]] = []
    barrier = threading.Barrier(32)

    def sign_many():
        barrier.wait()
        for n in range(150):
            if n % 3 == 0:
                signed.append(("url", storage.url(f"f/{n}.txt")))
            elif n % 3 == 1:
                signed.append(("post", storage.presigned_post("up/a.png", max_size=10)))
            else:
                urls = storage.presigner().part_urls("up/big.bin", "upload-1", [7, 7], 3600)
                signed.extend(("part", url) for url in urls)

    threads = [threading.Thread(target=sign_many) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(signed) == 32 * (50 + 50 + 2 * 50)
    torn, keys = 0, set()
    for kind, what in signed:
        try:
            if kind in ("url", "part"):
                key = access_key_of(what)
                if kind == "url":
                    verify_presigned_url(what, secret_key=secret_of(key))
                else:
                    verify_presigned_url(
                        what,
                        secret_key=secret_of(key),
                        method="PUT",
                        headers={"content-length": "7"},
                    )
                assert f"X-Amz-Security-Token=session-token-{key}" in what
            else:
                key = verify_post(what)
                assert what["fields"]["x-amz-security-token"] == "session-token-" + key
            keys.add(key)
        except AssertionError:
            torn += 1
    assert torn == 0
    assert len(keys) > 10  # the key really rotated under the threads
