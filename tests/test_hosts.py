"""Host and endpoint URL parsing: pure, no Django."""

import pytest

from sigv4_storage.hosts import AwsHost, HostError, aws_host, parse_endpoint_url, parse_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("s3.amazonaws.com", AwsHost("aws", None)),
        ("s3-external-1.amazonaws.com", AwsHost("aws", "us-east-1")),
        ("s3.ap-northeast-2.amazonaws.com", AwsHost("aws", "ap-northeast-2")),
        ("S3.AP-NORTHEAST-2.AMAZONAWS.COM", AwsHost("aws", "ap-northeast-2")),
        ("s3-ap-northeast-2.amazonaws.com", AwsHost("aws", "ap-northeast-2")),
        ("s3-eu-west-1.amazonaws.com", AwsHost("aws", "eu-west-1")),
        ("s3.dualstack.eu-central-1.amazonaws.com", AwsHost("aws", "eu-central-1", dualstack=True)),
        ("s3-fips.us-gov-west-1.amazonaws.com", AwsHost("aws-us-gov", "us-gov-west-1", fips=True)),
        ("s3-fips-us-gov-west-1.amazonaws.com", AwsHost("aws-us-gov", "us-gov-west-1", fips=True)),
        (
            "s3-fips.dualstack.us-east-2.amazonaws.com",
            AwsHost("aws", "us-east-2", dualstack=True, fips=True),
        ),
        ("s3.cn-north-1.amazonaws.com.cn", AwsHost("aws-cn", "cn-north-1")),
        ("s3.cn-northwest-1.amazonaws.com.cn", AwsHost("aws-cn", "cn-northwest-1")),
        ("s3.us-iso-east-1.c2s.ic.gov", AwsHost("aws-iso", "us-iso-east-1")),
        ("s3-accelerate.amazonaws.com", AwsHost("aws", None, accelerate=True)),
        (
            "s3-accelerate.dualstack.amazonaws.com",
            AwsHost("aws", None, dualstack=True, accelerate=True),
        ),
    ],
)
def test_aws_hosts(host, expected):
    assert aws_host(host) == expected


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "127.0.0.1",
        "minio",
        "play.min.io",
        "abc123.r2.cloudflarestorage.com",
        "nyc3.digitaloceanspaces.com",
        "kr.object.ncloudstorage.com",
        "storage.googleapis.com",
        "bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com",
        "ec2.amazonaws.com",
    ],
)
def test_other_hosts_are_custom(host):
    assert aws_host(host) is None


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("mybucket.s3.ap-northeast-2.amazonaws.com", "bucket"),
        ("s3.seoul.amazonaws.com", "'seoul' is not an AWS region"),
        ("s3.cn-north-1.amazonaws.com", "not an AWS region under .amazonaws.com"),
        ("s3.ap-northeast-2.amazonaws.com.cn", "not an AWS region under .amazonaws.com.cn"),
        ("s3-website-us-east-1.amazonaws.com", "static-website"),
        ("s3.foo.bar.amazonaws.com", "not an S3 API endpoint"),
    ],
)
def test_bad_aws_hosts(host, message):
    with pytest.raises(HostError, match=message):
        aws_host(host)


@pytest.mark.parametrize(
    ("value", "scheme", "url", "own_scheme"),
    [
        ("minio:9000", "http", "http://minio:9000", False),
        ("minio:9000/", "http", "http://minio:9000", False),
        ("localhost:9000", "https", "https://localhost:9000", False),
        (
            "s3.ap-northeast-2.amazonaws.com",
            "https",
            "https://s3.ap-northeast-2.amazonaws.com",
            False,
        ),
        (
            "s3.ap-northeast-2.amazonaws.com:443",
            "https",
            "https://s3.ap-northeast-2.amazonaws.com",
            False,
        ),
        ("https://minio:9000", "http", "https://minio:9000", True),
        ("[::1]:8333", "http", "http://[::1]:8333", False),
    ],
)
def test_parse_host(value, scheme, url, own_scheme):
    endpoint, has_scheme = parse_host(value, default_scheme=scheme)
    assert endpoint.url == url
    assert has_scheme is own_scheme


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("minio:9000/prefix", "has a path"),
        ("ftp://minio:9000", "neither http nor https"),
        ("user:pw@minio:9000", "credentials"),
        ("minio:notaport", "port"),
        ("minio:0", "port"),
        (":9000", "no host name"),
    ],
)
def test_parse_host_refusals(value, message):
    with pytest.raises(HostError, match=message):
        parse_host(value, default_scheme="https")


def test_parse_endpoint_url_keeps_a_path_prefix():
    endpoint = parse_endpoint_url("https://files.example.com:8443/s3/")
    assert (endpoint.scheme, endpoint.hostname, endpoint.port, endpoint.path) == (
        "https",
        "files.example.com",
        8443,
        "/s3",
    )
    assert endpoint.url == "https://files.example.com:8443/s3"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("minio:9000", "no scheme"),
        ("http://", "no host name"),
        ("http://minio:9000/?a=b", "query string"),
    ],
)
def test_parse_endpoint_url_refusals(value, message):
    with pytest.raises(HostError, match=message):
        parse_endpoint_url(value)
