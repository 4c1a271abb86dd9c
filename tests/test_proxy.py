"""``AWS_S3_PUBLIC_ENDPOINT_URL``: Django talks to the internal endpoint, browsers
fetch presigned URLs signed for the public host, through a real nginx in front
of SeaweedFS (which checks every signature, host included).
"""

import datetime as dt

import pytest
from django.core.files.base import ContentFile

from sigv4_storage import SigV4S3Storage, SigV4StaticStorage
from tests.servers import ADMIN, REGION
from tests.util import allow_public_reads, fetch, key_path, verify_presigned_url

BODY = "프록시 뒤의 파일\n".encode() * 100


@pytest.fixture(params=["endpoint_url", "host"])
def behind_proxy(request, settings, seaweedfs, weed_bucket, proxy):
    """Internal endpoint: SeaweedFS directly. Public endpoint: nginx."""
    weed, bucket = weed_bucket
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = ADMIN
    if request.param == "host":  # the boto-era spelling MinIO guides use
        settings.AWS_S3_HOST = seaweedfs.endpoint
        settings.AWS_S3_USE_SSL = False
    else:
        settings.AWS_S3_ENDPOINT_URL = f"http://{seaweedfs.endpoint}"
    settings.AWS_S3_PUBLIC_ENDPOINT_URL = f"http://{proxy.endpoint}"
    return weed, proxy


pytestmark = pytest.mark.integration


def test_presigned_urls_go_through_the_proxy(behind_proxy):
    weed, proxy = behind_proxy
    storage = SigV4S3Storage()
    hosts = []
    storage.save("first.txt", ContentFile(b"warm"))
    storage.connection.meta.client.meta.events.register(
        "before-send.s3", lambda request, **_: hosts.append(request.url.split("/")[2])
    )

    name = storage.save("문서/보고서 최종+1.txt", ContentFile(BODY))
    url = storage.url(name)

    assert hosts == [weed.endpoint]  # Django saved through the internal endpoint
    assert url.startswith(f"http://{proxy.endpoint}/{storage.bucket_name}/")
    verified = verify_presigned_url(url, secret_key=weed.secret_key)
    assert verified.path == f"/{storage.bucket_name}" + key_path(name)
    assert fetch(url)[::2] == (200, BODY)
    # The host is signed: the same URL on the internal host is refused...
    assert fetch(url.replace(proxy.endpoint, weed.endpoint))[0] == 403
    # ...and so is a tampered one.
    assert fetch(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200"))[0] == 403
    assert storage.exists(name)  # requests still go to the internal endpoint


def test_response_parameters_and_botocore_fallback(behind_proxy):
    weed, proxy = behind_proxy
    storage = SigV4S3Storage()
    storage.save("report.pdf", ContentFile(BODY))
    disposition = 'attachment; filename="report.pdf"'
    fast = storage.url("report.pdf", parameters={"ResponseContentDisposition": disposition})
    status, headers, body = fetch(fast)
    assert (status, body, headers["Content-Disposition"]) == (200, BODY, disposition)

    expires = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)  # not covered by the fast signer
    slow = storage.url("report.pdf", parameters={"ResponseExpires": expires})
    assert slow.startswith(f"http://{proxy.endpoint}/") and "response-expires=" in slow
    assert fetch(slow)[::2] == (200, BODY)


def test_public_urls_use_the_public_host(behind_proxy):
    weed, proxy = behind_proxy
    storage = SigV4StaticStorage()
    allow_public_reads(weed, storage.bucket_name)
    storage.save("css/site.css", ContentFile(b"body{}"))
    url = storage.url("css/site.css")
    assert url == f"http://{proxy.endpoint}/{storage.bucket_name}/css/site.css"
    assert fetch(url)[::2] == (200, b"body{}")


def test_the_provenance_shows_it(behind_proxy):
    _, proxy = behind_proxy
    described = SigV4S3Storage().s3_config.describe()
    assert described["public_endpoint_url"] == (
        f"http://{proxy.endpoint}",
        "settings.AWS_S3_PUBLIC_ENDPOINT_URL",
    )
