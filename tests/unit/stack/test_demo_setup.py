"""What `openfront up` lays out before it starts anything: site, token, ports, edge.yaml."""

from __future__ import annotations

import socket
import struct
import zlib
from pathlib import Path

import pytest

from openfront.config import load_config
from openfront.stack.demo import (
    DEMO_PORTS,
    DISTRIBUTION_ID,
    DemoLayout,
    DemoOptions,
    demo_config,
    pick_ports,
    prepare,
    specs,
)
from openfront.stack.demo_secure import ensure_secrets
from openfront.stack.demo_site import (
    SAMPLE_BIN,
    SAMPLE_BIN_SIZE,
    ensure_admin_token,
    logo_png,
    prepare_site,
)


def test_prepare_lays_out_the_data_dir(tmp_path: Path) -> None:
    warnings: list[str] = []
    layout, ports = prepare(DemoOptions(tmp_path / "d", free_ports=True), warnings.append)
    assert warnings == []
    for name in ("index.html", "static/style.css", "static/app.js", "static/logo.png"):
        assert (layout.origin_root / name).is_file(), name
    assert (layout.origin_root / SAMPLE_BIN).stat().st_size == SAMPLE_BIN_SIZE
    assert (layout.origin_root / "_headers.json").is_file()
    assert layout.edge_config.stat().st_mode & 0o777 == 0o600
    assert layout.admin_token.stat().st_mode & 0o777 == 0o600
    assert len(set(ports.values())) == 4
    assert (layout.data_dir / "keys" / "demo-signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert (layout.data_dir / "certs" / "localhost-key.pem").stat().st_mode & 0o777 == 0o600


def test_edge_yaml_is_a_valid_config_with_the_demo_distribution(tmp_path: Path) -> None:
    layout, ports = prepare(DemoOptions(tmp_path, free_ports=True), print)
    cfg = load_config(layout.edge_config)
    assert cfg.edge.listen == f"127.0.0.1:{ports['edge']}"
    assert cfg.edge.admin.listen == f"127.0.0.1:{ports['admin']}"
    assert cfg.edge.admin.token is not None
    assert cfg.edge.admin.token.get_secret_value() == layout.admin_token.read_text().strip()
    assert cfg.edge.cache.disk_path == layout.cache
    assert cfg.edge.logs.path == layout.logs
    (entry,) = cfg.distributions
    dist = entry.distribution_config
    assert entry.id == DISTRIBUTION_ID and dist.aliases
    assert dist.origins[0].custom_origin_config.http_port == ports["origin"]
    assert [b.path_pattern for b in dist.cache_behaviors] == ["/static/*", "/api/*", "/private/*"]
    assert dist.cache_behaviors[2].trusted_key_groups is not None
    assert dist.restrictions.geo_restriction.restriction_type == "blacklist"
    assert cfg.edge.tls is not None and cfg.edge.tls.listen == f"127.0.0.1:{ports['https']}"
    assert len(dist.cache_behaviors[1].allowed_methods.items) == 7


def test_services_point_at_the_layout(tmp_path: Path) -> None:
    layout = DemoLayout(tmp_path)
    origin, edge = specs(layout, "127.0.0.1", {"origin": 1, "edge": 2, "admin": 3})
    assert origin.args == ("origin", "--root", str(layout.origin_root), "--listen", "127.0.0.1:1")
    assert edge.args == ("edge", "--config", str(layout.edge_config))
    assert origin.log_path.parent == edge.log_path.parent == layout.run


def test_restart_keeps_edits_and_the_token(tmp_path: Path) -> None:
    prepare_site(tmp_path / "origin")
    (tmp_path / "origin" / "index.html").write_text("edited")
    (tmp_path / "origin" / "static" / "style.css").unlink()
    prepare_site(tmp_path / "origin")
    assert (tmp_path / "origin" / "index.html").read_text() == "edited"
    assert (tmp_path / "origin" / "static" / "style.css").is_file()
    token = ensure_admin_token(tmp_path / "admin-token")
    (tmp_path / "admin-token").chmod(0o644)
    assert ensure_admin_token(tmp_path / "admin-token") == token
    assert (tmp_path / "admin-token").stat().st_mode & 0o777 == 0o600


def test_an_empty_token_file_gets_a_new_token(tmp_path: Path) -> None:
    path = tmp_path / "admin-token"
    path.write_text("")
    token = ensure_admin_token(path)
    assert len(token) >= 32 and path.read_text().strip() == token


def test_a_busy_usual_port_is_replaced_with_a_warning() -> None:
    warnings: list[str] = []
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            busy.bind(("127.0.0.1", DEMO_PORTS["edge"]))
        except OSError:
            pass  # already taken by something else: the fallback is exercised all the same
        busy.listen()
        ports = pick_ports("127.0.0.1", free=False, warn=warnings.append)
    assert ports["edge"] != DEMO_PORTS["edge"]
    assert any(f"port {DEMO_PORTS['edge']} (edge) is in use" in w for w in warnings)


def test_demo_config_for_ipv6_host_brackets_addresses(tmp_path: Path) -> None:
    ports = {"origin": 1, "edge": 2, "https": 4, "admin": 3}
    doc = demo_config(DemoLayout(tmp_path), "::1", ports, "t", ensure_secrets(tmp_path))
    assert doc["edge"]["listen"] == "[::1]:2"
    assert doc["edge"]["tls"]["listen"] == "[::1]:4"
    assert doc["edge"]["admin"]["listen"] == "[::1]:3"


@pytest.mark.parametrize("size", [1, 16, 48])
def test_logo_is_a_well_formed_png(size: int) -> None:
    png = logo_png(size)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    offset, chunks = 8, {}
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = data
        offset += 12 + length
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (size, size)
    assert len(zlib.decompress(chunks[b"IDAT"])) == size * (1 + 4 * size)
