"""Response headers policies: the static edit, CORS, preflights and Server-Timing (guide §1.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.response_headers import (
    AddedHeader,
    Cors,
    ResponseHeadersPolicy,
    allow_origin_value,
    cors_fields,
    edge_preflight,
    edit_fields,
    generated_fields,
    is_preflight,
    origin_allowed,
    preflight_fields,
    server_timing_value,
    server_timing_wanted,
)

ACAO = "Access-Control-Allow-Origin"


def policy(**kw: object) -> ResponseHeadersPolicy:
    return ResponseHeadersPolicy(name="p", **kw)  # type: ignore[arg-type]


def names(fields: tuple[tuple[str, str], ...]) -> list[str]:
    return [n.lower() for n, _ in fields]


# --- the static edit ----------------------------------------------------------------------------

ORIGIN = (
    ("Content-Type", "text/html"),
    ("X-Frame-Options", "DENY"),
    ("Server", "nginx"),
    ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
    ("X-Powered-By", "PHP"),
)


@pytest.mark.parametrize(
    ("added", "expected"),
    [
        # Override false: the origin's value stays; absent headers are added either way.
        (AddedHeader("X-Frame-Options", "SAMEORIGIN", False), ("X-Frame-Options", "DENY")),
        (AddedHeader("X-Frame-Options", "SAMEORIGIN", True), ("X-Frame-Options", "SAMEORIGIN")),
        (AddedHeader("Referrer-Policy", "no-referrer", False), ("Referrer-Policy", "no-referrer")),
        (AddedHeader("Referrer-Policy", "no-referrer", True), ("Referrer-Policy", "no-referrer")),
        (AddedHeader("x-frame-options", "SAMEORIGIN", True), ("x-frame-options", "SAMEORIGIN")),
    ],
)
def test_override_rule(added: AddedHeader, expected: tuple[str, str]) -> None:
    out = edit_fields(policy(added=(added,)), ORIGIN).fields
    same = [f for f in out if f[0].lower() == expected[0].lower()]
    assert same == [expected]
    assert ("Content-Type", "text/html") in out


def test_override_replaces_every_repeat_of_the_field() -> None:
    fields = (("Set-Thing", "a"), ("X-Custom", "1"), ("set-thing", "b"))
    out = edit_fields(policy(added=(AddedHeader("Set-Thing", "c", True),)), fields).fields
    assert out == (("X-Custom", "1"), ("Set-Thing", "c"))


def test_removal_runs_before_additions() -> None:
    p = policy(
        remove=frozenset({"x-frame-options", "x-powered-by"}),
        added=(AddedHeader("X-Frame-Options", "SAMEORIGIN", False),),
    )
    out = edit_fields(p, ORIGIN).fields
    assert ("X-Frame-Options", "SAMEORIGIN") in out  # removed, then added: the policy's value
    assert "x-powered-by" not in names(out)


def test_removed_server_and_date_come_back_from_the_edge() -> None:
    edit = edit_fields(policy(remove=frozenset({"server", "date"})), ORIGIN)
    assert ("Server", "CloudFront") in edit.fields and ("Server", "nginx") not in edit.fields
    assert "date" not in names(edit.fields) and edit.add_date
    # No Date to remove: nothing to replace (the edge's usual Date rule applies).
    no_date = edit_fields(policy(remove=frozenset({"date"})), ORIGIN[:3])
    assert not no_date.add_date
    # Removed, but a custom header sets it: that one is sent, the edge adds none.
    custom = policy(remove=frozenset({"date"}), added=(AddedHeader("Date", "x", False),))
    assert not edit_fields(custom, ORIGIN).add_date


def test_cors_override_decides_who_owns_the_cors_fields() -> None:
    fields = ((ACAO, "https://a.example"), ("Access-Control-Expose-Headers", "X-A"))
    keep = Cors(("*",), expose_headers=("X-B",), origin_override=False)
    edit = edit_fields(policy(cors=keep), fields)
    assert edit.fields == fields
    assert edit.origin_cors == {ACAO.lower(), "access-control-expose-headers"}
    replace = Cors(("*",), expose_headers=("X-B",), origin_override=True)
    edit = edit_fields(policy(cors=replace), fields)
    assert edit.fields == () and edit.origin_cors == frozenset()


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        (None, "Origin"),
        ("Accept-Encoding", "Accept-Encoding, Origin"),
        ("origin", "origin"),
        ("Accept-Encoding, Origin", "Accept-Encoding, Origin"),
        ("*", "*"),
    ],
)
def test_vary_origin_when_the_allowed_origin_is_echoed(vary: str | None, expected: str) -> None:
    fields = (("Vary", vary),) if vary is not None else ()
    out = edit_fields(policy(cors=Cors(("https://a.example",))), fields).fields
    assert [v for n, v in out if n == "Vary"] == [expected]


def test_no_vary_when_the_answer_is_a_plain_star() -> None:
    assert edit_fields(policy(cors=Cors(("*",))), ()).fields == ()
    # With credentials a star must echo the viewer's Origin, so it varies again.
    creds = Cors(("*",), allow_credentials=True)
    assert edit_fields(policy(cors=creds), ()).fields == (("Vary", "Origin"),)


def test_origin_server_timing_is_held_back_for_the_merge() -> None:
    fields = (("Server-Timing", "db;dur=53"), ("Server-Timing", "app;dur=47.2"))
    edit = edit_fields(policy(server_timing=True, sampling_rate=1.0), fields)
    assert edit.fields == () and edit.origin_timing == "db;dur=53, app;dur=47.2"
    assert edit_fields(policy(), fields).fields == fields


def test_generated_answers_get_static_fields_but_never_repeat_their_own() -> None:
    p = policy(
        added=(
            AddedHeader("X-Frame-Options", "DENY", False),
            AddedHeader("Server", "mine", True),
            AddedHeader("Content-Type", "text/plain", True),
        ),
        cors=Cors(("https://a.example",)),
    )
    assert generated_fields(p) == (("X-Frame-Options", "DENY"), ("Vary", "Origin"))


# Fields the policies below never touch keep their order and values.
_NAME = st.sampled_from(
    ["X-A", "x-a", "X-B", "Server", "Date", "Vary", "X-Frame-Options", "Cache-Control", "ETag"]
)
_FIELDS = st.lists(st.tuples(_NAME, st.text("abc ;=", max_size=5)), max_size=8)
_ADDED = st.lists(
    st.builds(
        AddedHeader, _NAME.filter(lambda n: n.lower() != "vary"), st.just("P"), st.booleans()
    ),
    max_size=3,
    unique_by=lambda h: h.name.lower(),
)
_REMOVE = st.frozensets(_NAME.map(str.lower), max_size=3)


@given(_FIELDS, _ADDED, _REMOVE)
def test_edit_properties(
    fields: list[tuple[str, str]], added: list[AddedHeader], remove: frozenset[str]
) -> None:
    p = policy(added=tuple(added), remove=remove)
    out = edit_fields(p, fields).fields
    after_remove = [f for f in fields if f[0].lower() not in remove]
    touched = {h.name.lower() for h in added} | remove | {"server"}
    # Untouched fields survive in order.
    assert [f for f in out if f[0].lower() not in touched] == [
        f for f in after_remove if f[0].lower() not in touched
    ]
    for h in added:
        low = h.name.lower()
        kept = [f for f in after_remove if f[0].lower() == low]
        mine = [f for f in out if f[0].lower() == low]
        if h.override or not kept:
            assert mine == [(h.name, "P")]
        else:
            assert mine == kept
    for name in remove - {h.name.lower() for h in added} - {"server"}:
        assert name not in names(out)


# --- CORS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "origin", "ok"),
    [
        ("*", "https://anything.example", True),
        ("*", "null", True),
        ("https://www.example.com", "https://www.example.com", True),
        ("https://www.example.com", "HTTPS://WWW.EXAMPLE.COM", True),
        ("https://www.example.com", "http://www.example.com", False),
        ("https://www.example.com", "https://www.example.com:8443", False),
        ("https://www.example.com", "https://evil-www.example.com", False),
        ("www.example.com", "http://www.example.com", True),
        ("www.example.com", "https://www.example.com", True),
        ("http://localhost:3000", "http://localhost:3000", True),
        ("http://localhost:3000", "http://localhost:3001", False),
        ("https://*.example.org", "https://a.example.org", True),
        ("https://*.example.org", "https://a.b.example.org", True),
        ("https://*.example.org", "https://example.org", False),
        ("https://*.example.org", "https://aexample.org", False),
        ("https://*.example.org", "http://a.example.org", False),
        ("*.example.org", "http://a.example.org", True),
        ("https://www.example.com", "null", False),
        ("https://www.example.com", "https://www.example.com/path", False),
    ],
)
def test_origin_allowed(allowed: str, origin: str, ok: bool) -> None:
    assert origin_allowed(Cors((allowed.lower(),)), origin) is ok


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}", fullmatch=True))
def test_wildcard_covers_every_subdomain_and_nothing_else(label: str) -> None:
    cors = Cors(("https://*.example.org",))
    assert origin_allowed(cors, f"https://{label}.example.org")
    assert not origin_allowed(cors, f"https://{label}example.org")
    assert not origin_allowed(cors, f"https://{label}.example.org.evil")


def test_allow_origin_value() -> None:
    assert allow_origin_value(Cors(("*",)), "https://a.example") == "*"
    creds = Cors(("*",), allow_credentials=True)
    assert allow_origin_value(creds, "https://a.example") == "https://a.example"
    listed = Cors(("https://a.example",))
    assert allow_origin_value(listed, "https://a.example") == "https://a.example"
    assert allow_origin_value(listed, "https://b.example") is None


def test_cors_fields_of_a_simple_request() -> None:
    cors = Cors(("https://a.example",), allow_credentials=True, expose_headers=("ETag", "X-Id"))
    want = (
        (ACAO, "https://a.example"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "ETag, X-Id"),
    )
    assert cors_fields(cors, "https://a.example") == want
    assert cors_fields(cors, "https://b.example") == ()  # not allowed: nothing
    assert cors_fields(cors, None) == ()  # not a CORS request
    # The origin sent its own (OriginOverride false): that one stays alone.
    assert cors_fields(cors, "https://a.example", frozenset({ACAO.lower()})) == want[1:]


def test_preflight_fields() -> None:
    cors = Cors(
        ("https://a.example",),
        allow_headers=("Authorization", "Content-Type"),
        allow_methods=("GET", "POST"),
        max_age=600,
        expose_headers=("ETag",),
    )
    assert preflight_fields(cors, "https://a.example", "authorization") == (
        (ACAO, "https://a.example"),
        ("Access-Control-Allow-Methods", "GET, POST"),
        ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
        ("Access-Control-Max-Age", "600"),
        ("Access-Control-Expose-Headers", "ETag"),
    )
    assert preflight_fields(cors, "https://evil.example", None) is None


def test_preflight_star_headers_with_credentials_name_what_was_asked() -> None:
    star = Cors(("*",), allow_headers=("*",), allow_methods=("GET",))
    assert ("Access-Control-Allow-Headers", "*") in (
        preflight_fields(star, "https://a", "x-a") or ()
    )
    creds = Cors(("*",), allow_headers=("*",), allow_methods=("GET",), allow_credentials=True)
    out = preflight_fields(creds, "https://a", "x-a, x-b") or ()
    assert (ACAO, "https://a") in out and ("Access-Control-Allow-Headers", "x-a, x-b") in out
    assert "access-control-allow-headers" not in names(
        preflight_fields(creds, "https://a", None) or ()
    )


@pytest.mark.parametrize(
    ("method", "origin", "request_method", "expected"),
    [
        ("OPTIONS", "https://a", "PUT", True),
        ("OPTIONS", None, "PUT", False),
        ("OPTIONS", "https://a", None, False),
        ("GET", "https://a", "PUT", False),
    ],
)
def test_is_preflight(
    method: str, origin: str | None, request_method: str | None, expected: bool
) -> None:
    assert is_preflight(method, origin, request_method) is expected


# --- Server-Timing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "pragma", "rnd", "expected"),
    [
        (0.0, None, 0.0, False),
        (0.0, "server-timing", 99.9, True),
        (0.0, "no-cache, Server-Timing", 99.9, True),
        (0.0, "no-cache", 0.0, False),
        (100.0, None, 99.9999, True),
        (50.0, None, 49.99, True),
        (50.0, None, 50.0, False),
        (0.0001, None, 0.00009, True),
    ],
)
def test_sampling(rate: float, pragma: str | None, rnd: float, expected: bool) -> None:
    p = policy(server_timing=True, sampling_rate=rate)
    assert server_timing_wanted(p, pragma, rnd) is expected


def test_disabled_server_timing_ignores_pragma() -> None:
    assert not server_timing_wanted(policy(), "server-timing", 0.0)


def test_server_timing_format_follows_cloudfront() -> None:
    hit = server_timing_value("hit", pop="SEA19-C1", request_id="nQBz==", downstream_ms=137)
    assert hit == (
        'cdn-cache-hit,cdn-pop;desc="SEA19-C1",cdn-rid;desc="nQBz==",'
        'cdn-hit-layer;desc="EDGE",cdn-downstream-fbl;dur=137'
    )
    miss = server_timing_value(
        "miss",
        pop="PHX50-C2",
        request_id="yNPs",
        downstream_ms=436,
        upstream_ms=(0, 114, 177),
        origin="db;dur=53",
    )
    assert miss == (
        'cdn-upstream-layer;desc="EDGE",cdn-upstream-dns;dur=0,cdn-upstream-connect;dur=114,'
        'cdn-upstream-fbl;dur=177,cdn-cache-miss,cdn-pop;desc="PHX50-C2",cdn-rid;desc="yNPs",'
        "cdn-downstream-fbl;dur=436,db;dur=53"
    )
    refresh = server_timing_value("refresh", pop='a"b', request_id="r", downstream_ms=-1)
    assert refresh.startswith('cdn-upstream-layer;desc="EDGE",cdn-cache-refresh,')
    assert 'cdn-pop;desc="a\\"b"' in refresh and refresh.endswith("dur=0")
    # The origin's metrics ride along on a miss only.
    assert "db" not in server_timing_value(
        "hit", pop="P", request_id="r", downstream_ms=1, origin="db;dur=1"
    )


def test_which_preflights_the_edge_answers() -> None:
    cors = Cors(("https://a.example",), allow_methods=("PUT",))
    ask = ("OPTIONS", "https://a.example", "PUT", None)
    assert edge_preflight(cors, *ask) == (
        (ACAO, "https://a.example"),
        ("Access-Control-Allow-Methods", "PUT"),
    )
    assert edge_preflight(cors, "OPTIONS", "https://b.example", "PUT", None) is None
    assert edge_preflight(cors, "OPTIONS", "https://a.example", None, None) is None
    assert edge_preflight(cors, "GET", "https://a.example", "PUT", None) is None
    # No methods named (SimpleCORS): preflights are the origin's to answer.
    assert edge_preflight(Cors(("*",)), *ask) is None
