"""callback_url rules: the SSRF attempts a caller could make, each refused naming the field."""

from __future__ import annotations

import pytest

from controlplane.domain.callbacks import CallbackPolicy, parse_callback_url, refused_address
from controlplane.domain.errors import InvalidInput

POLICY = CallbackPolicy(("hooks.example.com", "*.example.net"))
SANDBOX = CallbackPolicy(("127.0.0.1", "localhost"), sandbox_loopback=True)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("ftp://hooks.example.com/x", "https://"),
        ("//hooks.example.com/x", "https://"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://user@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x?token=abc", "query string"),
        ("https://hooks.example.com/x#frag", "query string"),
        ("https://127.0.0.1/x", "not an IP address"),
        ("https://169.254.169.254/metadata/instance", "not an IP address"),
        ("https://10.0.0.5/x", "not an IP address"),
        ("https://2130706433/x", "not an IP address"),  # 127.0.0.1 as one decimal number
        ("https://0177.0.0.1/x", "not an IP address"),  # octal
        ("https://0x7f.0.0.1/x", "not an IP address"),  # hex
        ("https://0x7f000001/x", "not an IP address"),
        ("https://127.1/x", "not an IP address"),  # inet_aton's short form
        ("https://[::1]/x", "not an IP address"),
        ("https://[::ffff:127.0.0.1]/x", "not an IP address"),  # IPv4-mapped IPv6
        ("https://[fd00::1]/x", "not an IP address"),  # IPv6 ULA
        ("https://[fe80::1%25eth0]/x", "not an IP address"),
        ("https://evil.example.org/x", "allow-list"),
        ("https://hooks.example.com.evil.org/x", "allow-list"),
        ("https://example.net/x", "allow-list"),  # *.example.net is below the apex only
        ("https://localhost/x", "allow-list"),
        ("https://hooks.example.com:99999/x", "not a valid URL"),
        ("https://hooks_example.com/x", "not a valid DNS name"),
        ("", "https:// URL"),
        ("https://hooks.example.com/" + "a" * 2100, "at most 2048"),
    ],
)
def test_refused_urls_name_the_field(url: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_callback_url(url, POLICY)
    assert refused.value.field == "callback_url"
    assert says in refused.value.detail


@pytest.mark.parametrize(
    ("url", "host", "port", "path"),
    [
        ("https://hooks.example.com/twinstack", "hooks.example.com", 443, "/twinstack"),
        ("https://HOOKS.example.com./", "hooks.example.com", 443, "/"),
        ("https://a.b.example.net:8443", "a.b.example.net", 8443, "/"),
    ],
)
def test_allowed_urls(url: str, host: str, port: int, path: str) -> None:
    target = parse_callback_url(url, POLICY)
    assert (target.host, target.port, target.path) == (host, port, path)


def test_no_allow_list_means_no_callbacks() -> None:
    with pytest.raises(InvalidInput, match="not enabled"):
        parse_callback_url("https://hooks.example.com/x", CallbackPolicy(()))


def test_the_sandbox_allows_loopback_literals_it_lists_and_nothing_else() -> None:
    assert parse_callback_url("https://127.0.0.1:8443/hooks/a", SANDBOX).host == "127.0.0.1"
    for url in ("https://2130706433/x", "https://[::1]/x", "https://10.0.0.1/x", "https://hooks.example.com/x"):
        with pytest.raises(InvalidInput):
            parse_callback_url(url, SANDBOX)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the instance metadata service
        ("100.64.0.1", "not a public"),  # carrier-grade NAT (shared address space)
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd00::1", "private"),  # unique local
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("ff02::1", "multicast"),
    ],
)
def test_addresses_inside_any_network_are_refused(address: str, kind: str) -> None:
    reason = refused_address(address)
    assert reason is not None and kind in reason, reason


@pytest.mark.parametrize("address", ["20.42.65.92", "8.8.8.8", "2603:1030:20e:3::23c", "::ffff:20.42.65.92"])
def test_public_addresses_pass(address: str) -> None:
    assert refused_address(address) is None


def test_the_sandbox_permits_loopback_only() -> None:
    assert refused_address("127.0.0.1", sandbox_loopback=True) is None
    assert refused_address("::1", sandbox_loopback=True) is None
    assert refused_address("10.0.0.1", sandbox_loopback=True) is not None
    assert refused_address("20.42.65.92", sandbox_loopback=True) is not None
