"""What the pretraining stages' artifacts share: weights written atomically next to a JSON
manifest that records their sha256, and a loader that refuses a file whose digest differs
(a file of another run copied beside the manifest). Used by the LM artifact
(:mod:`xlt.lms.artifact`) and the sentence encoder's (:mod:`xlt.lms.laser.artifact`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from safetensors.torch import save_file
from torch import nn

from xlt.atomic import atomic_path
from xlt.errors import InputError
from xlt.fetch import sha256_file


def file_entry(path: str | Path) -> dict[str, str]:
    """The manifest's record of a written file: its name (beside the manifest) and sha256."""
    return {"file": Path(path).name, "sha256": sha256_file(path)}


def save_weights(path: str | Path, module: nn.Module) -> dict[str, str]:
    """``module``'s state dict as safetensors, atomically; returns its :func:`file_entry`."""
    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, str(tmp))
    return file_entry(path)


def read_manifest(json_path: str | Path, keys: Iterable[str], what: str) -> dict[str, Any]:
    """A manifest that must hold ``keys``; anything else is an error naming the file."""
    json_path = Path(json_path)
    try:
        manifest = json.loads(json_path.read_text(encoding="utf-8"))
        missing = [key for key in keys if key not in manifest]
        if missing:
            raise KeyError(", ".join(missing))
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(json_path, None, f"not {what} manifest ({exc!r})") from exc
    return manifest


def checked_file(json_path: str | Path, entry: dict[str, str], what: str) -> Path:
    """The file a manifest ``entry`` names, after checking its sha256."""
    json_path = Path(json_path)
    path = json_path.parent / entry["file"]
    digest = sha256_file(path)
    if digest != entry["sha256"]:
        raise InputError(path, None, f"sha256 {digest} differs from the {entry['sha256']} {json_path} records: "
                                     f"a file of another {what}?")
    return path
