"""Real SSH signing keys (ssh-keygen) and SSH-signed commits, for the approval tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from support import GIT_ENV, GitRepo

SSH_KEYGEN = shutil.which("ssh-keygen")


@dataclass(frozen=True)
class Signer:
    """One person's ed25519 key pair, made by ssh-keygen, and the principal it stands for."""

    principal: str
    key: Path  # the private key file

    @classmethod
    def generate(cls, folder: Path, principal: str) -> Signer:
        assert SSH_KEYGEN is not None
        folder.mkdir(parents=True, exist_ok=True)
        key = folder / principal.replace("@", "_at_")
        subprocess.run(
            [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(key)],
            check=True,
            capture_output=True,
        )
        return cls(principal, key)

    def public(self) -> str:
        """``key-type base64`` of the public key."""
        return " ".join(Path(f"{self.key}.pub").read_text().split()[:2])

    def allowed(self, options: str = "") -> str:
        """This signer's allowed_signers line, with optional options such as valid-before."""
        middle = f" {options}" if options else ""
        return f"{self.principal}{middle} {self.public()}\n"


def signed_commit(repo: GitRepo, signer: Signer | None, message: str, *, date: str | None = None) -> str:
    """Commit everything, SSH-signed by ``signer`` (unsigned when None); ``date`` sets both dates."""
    repo.git("add", "-A")
    args = ["commit", "-q", "--allow-empty", "-m", message]
    if signer is not None:
        args = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={signer.key}", *args, "-S"]
    env = {**os.environ, **GIT_ENV}
    if date is not None:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", *args], cwd=repo.root, env=env, check=True, capture_output=True, text=True)
    return repo.git("rev-parse", "HEAD")
