"""Checking a bundle against its manifest, and signing manifests (Ed25519).

``kit verify BUNDLE_DIR [--expect HASH] [--pubkey FILE]`` recomputes every
hash of the manifest (see :mod:`kit.bundle.manifest` for the scheme), names
the files that were altered, are missing or were added, and checks the
manifest's own hash against the one written in the case file, and its
signature against the signer's public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from kit.bundle.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    bundle_files,
    sha256_file,
    sha256_sealed,
)
from kit.errors import BundleError


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking one bundle.

    Attributes
    ----------
    ok
        Every check passed.
    manifest_hash
        SHA-256 of ``manifest.json`` as found.
    altered, missing, added
        Bundle files whose hash differs, that are gone, or that the manifest
        does not list.
    expected_hash_ok
        ``None`` when no hash was expected, else whether it matched.
    signature_ok
        ``None`` when no public key was given, else whether the signature is valid.

    """

    ok: bool
    manifest_hash: str
    altered: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    expected_hash_ok: bool | None = None
    signature_ok: bool | None = None
    checked: int = 0
    problems: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """Return a few lines for the terminal."""
        lines = [f"manifest sha256: {self.manifest_hash}"]
        if self.ok:
            lines.append(f"OK: {self.checked} files match the manifest")
        else:
            lines.extend(f"FAILED: {problem}" for problem in self.problems)
        return "\n".join(lines)


def verify(
    bundle_dir: Path, *, expect: str | None = None, pubkey: Path | None = None
) -> VerifyResult:
    """Recompute every hash of a bundle's manifest.

    Parameters
    ----------
    bundle_dir
        The bundle folder.
    expect
        The manifest hash written in the case file; checked when given.
    pubkey
        A PEM Ed25519 public key; ``manifest.sig`` must then be a valid
        signature of ``manifest.json`` by the matching private key.

    Returns
    -------
    VerifyResult
        ``ok`` is true only when nothing was altered, missing or added and the
        expected hash and signature (when asked for) match.

    Raises
    ------
    BundleError
        The folder holds no readable manifest.

    """
    manifest_path = bundle_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        raise BundleError(
            "no manifest.json here: give the folder of an evidence bundle", file=str(bundle_dir)
        )
    data = manifest_path.read_bytes()
    manifest_hash = hashlib.sha256(data).hexdigest()
    try:
        manifest = json.loads(data.decode("utf-8"))
        entries = {str(e["path"]): e for e in manifest["files"]}
    except (ValueError, KeyError, TypeError) as error:
        raise BundleError(
            f"manifest.json cannot be read ({type(error).__name__}): it was altered or "
            "is not a kit manifest",
            file=str(manifest_path),
        ) from error

    altered, missing = [], []
    for name, entry in sorted(entries.items()):
        path = bundle_dir / name
        if not path.is_file():
            missing.append(name)
            continue
        if entry.get("sealed"):
            try:
                actual = sha256_sealed(path, manifest_hash)
            except UnicodeDecodeError:
                actual = sha256_file(path)
        else:
            actual = sha256_file(path)
        if actual != entry.get("sha256"):
            altered.append(name)
    added = [name for name in bundle_files(bundle_dir) if name not in entries]

    problems = [f"altered: {name}" for name in altered]
    problems += [f"missing: {name}" for name in missing]
    problems += [f"not in the manifest: {name}" for name in added]
    expected_ok: bool | None = None
    if expect is not None:
        expected_ok = expect.strip().lower() == manifest_hash
        if not expected_ok:
            problems.append("manifest.json: its SHA-256 is not the expected hash")
    signature_ok: bool | None = None
    if pubkey is not None:
        signature_ok = check_signature(bundle_dir, pubkey)
        if not signature_ok:
            problems.append("manifest.sig: missing or not a valid signature by this key")
    return VerifyResult(
        ok=not problems,
        manifest_hash=manifest_hash,
        altered=tuple(altered),
        missing=tuple(missing),
        added=tuple(added),
        expected_hash_ok=expected_ok,
        signature_ok=signature_ok,
        checked=len(entries),
        problems=tuple(problems),
    )


def generate_signing_key(private_path: Path, public_path: Path) -> None:
    """Write a new Ed25519 key pair as PEM files (the private key unencrypted, mode 0600)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def sign_manifest(bundle_dir: Path, keyfile: Path) -> Path:
    """Sign ``manifest.json`` with a PEM Ed25519 private key; write ``manifest.sig``.

    Raises
    ------
    BundleError
        The key file is not an unencrypted Ed25519 private key.

    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(keyfile.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise BundleError(
            "cannot read the signing key: give an unencrypted PEM Ed25519 private key",
            file=str(keyfile),
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError("the signing key is not an Ed25519 key", file=str(keyfile))
    signature = key.sign((bundle_dir / MANIFEST_NAME).read_bytes())
    path = bundle_dir / SIGNATURE_NAME
    path.write_text(base64.b64encode(signature).decode("ascii") + "\n", encoding="ascii")
    return path


def check_signature(bundle_dir: Path, pubkey: Path) -> bool:
    """Return whether ``manifest.sig`` is a valid signature of ``manifest.json`` by ``pubkey``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature_path = bundle_dir / SIGNATURE_NAME
    if not signature_path.is_file():
        return False
    try:
        key = serialization.load_pem_public_key(pubkey.read_bytes())
    except (ValueError, TypeError) as error:
        raise BundleError(
            "cannot read the public key: give a PEM Ed25519 public key", file=str(pubkey)
        ) from error
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError("the public key is not an Ed25519 key", file=str(pubkey))
    try:
        signature = base64.b64decode(signature_path.read_text(encoding="ascii").strip())
        key.verify(signature, (bundle_dir / MANIFEST_NAME).read_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True
