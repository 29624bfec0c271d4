"""Making a software update: pack a version's files, sign the package with the release key, and
put both where the station offers them (``<dir>/<version>.pkg`` and ``<version>.sig``).

The release key's private half belongs on the build machine, never on a station or a terminal;
its public half is ``terminal/app/update_key.pub`` in the package. Tests and the benchmark make a
key of their own at run time (``new_release_key``).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from terminal.protocol.update_offer import PACKAGE_MAX, statement


def new_release_key() -> tuple[object, bytes]:
    """A fresh Ed25519 key pair: (private key object, 32 raw bytes of the public key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, public


def pack(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    """A tar.gz of ``files`` (relative path -> content), in name order with fixed times, so the
    same files always make the same package."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=9) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = mode
            archive.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def sign(private_key: object, version: str, package: bytes) -> bytes:
    """The release key's signature over the version, size and SHA-256 of ``package``."""
    digest = hashlib.sha256(package).digest()
    return private_key.sign(statement(version, len(package), digest))  # type: ignore[attr-defined]


def publish(directory: str | Path, version: str, package: bytes, private_key: object) -> Path:
    """Put a signed package where the station offers it; returns the package's path."""
    if len(package) > PACKAGE_MAX:
        raise ValueError(f"a package is at most {PACKAGE_MAX} bytes, this is {len(package)}")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}.pkg"
    path.write_bytes(package)
    (folder / f"{version}.sig").write_text(sign(private_key, version, package).hex() + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m terminal.tools.release keygen KEY`` makes a release key (the private half in
    KEY, mode 0600, PEM; the public half printed for ``terminal/app/update_key.pub``);
    ``... publish KEY VERSION DIR FOLDER`` packs FOLDER as VERSION, signs it and puts it in DIR."""
    import argparse
    import os

    from cryptography.hazmat.primitives import serialization

    parser = argparse.ArgumentParser(prog="python -m terminal.tools.release")
    sub = parser.add_subparsers(dest="action", required=True)
    keygen = sub.add_parser("keygen", help="make a release key")
    keygen.add_argument("key")
    publish_ = sub.add_parser("publish", help="pack, sign and offer a version")
    for name in ("key", "version", "dir", "folder"):
        publish_.add_argument(name)
    args = parser.parse_args(argv)
    if args.action == "keygen":
        private, public = new_release_key()
        pem = private.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(args.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        print(public.hex())
        return 0
    private = serialization.load_pem_private_key(Path(args.key).read_bytes(), None)
    folder = Path(args.folder)
    files = {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
    files["VERSION"] = args.version.encode() + b"\n"  # what the installed code reports
    path = publish(args.dir, args.version, pack(files), private)
    print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
