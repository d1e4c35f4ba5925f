"""`openfront cert`: a local CA and certificates for the HTTPS listener (ACM for local use)."""

from __future__ import annotations

from pathlib import Path

import click

from openfront.cli._console import EXIT_CONFIG, fail

CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"  # as in _certgen, which loads lazily


def _hint(directory: Path, names: list[str], cert_path: Path, key_path: Path) -> str:
    from openfront.cli._certgen import is_ip

    dns = [n for n in names if not is_ip(n)] or names
    host = next((n for n in dns if "*" not in n), dns[0].replace("*", "www"))
    listed = ", ".join(f'"{n}"' for n in dns)
    return (
        f"\nUse it in edge.yaml:\n"
        f"  tls:\n"
        f'    listen: "127.0.0.1:8443"\n'
        f"    certificates:\n"
        f"      - names: [{listed}]\n"
        f"        cert_file: {cert_path.resolve()}\n"
        f"        key_file: {key_path.resolve()}\n"
        f"\nTry it (the CA is trusted only where you pass it):\n"
        f"  curl --cacert {directory / CA_FILE} --resolve {host}:8443:127.0.0.1 "
        f"https://{host}:8443/\n"
    )


@click.command("cert")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("certs"),
    show_default=True,
    metavar="DIR",
    help="Folder of the local CA (ca.pem, ca-key.pem) and of the new certificate.",
)
def cert(names: tuple[str, ...], directory: Path) -> None:
    """Make a certificate for NAME... signed by a local CA (made on first use).

    \b
    NAMEs are host names (wildcards like *.example.com allowed) or IP addresses; all become
    subject alternative names, the first one names the files: DIR/NAME.pem (the chain) and
    DIR/NAME-key.pem (mode 0600). Trust DIR/ca.pem in your client, e.g. curl --cacert.
    """
    # Imported here: cryptography would slow every other command's start by ~50 ms.
    from openfront.cli._certgen import issue_certificate, load_or_create_ca, san

    wanted = list(dict.fromkeys(names))
    try:
        san(wanted)
        ca, created = load_or_create_ca(directory)
        cert_path, key_path = issue_certificate(directory, wanted, ca)
    except ValueError as exc:
        fail(str(exc), EXIT_CONFIG)
    except OSError as exc:
        fail(f"{exc.filename or directory}: {exc.strerror or exc}")
    made = "created" if created else "reused"
    click.echo(f"CA ({made}):   {directory / CA_FILE}  (key {directory / CA_KEY_FILE})")
    click.echo(f"certificate: {cert_path}")
    click.echo(f"key:         {key_path}")
    click.echo(_hint(directory, wanted, cert_path, key_path), nl=False)
