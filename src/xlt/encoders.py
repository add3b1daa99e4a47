"""Resolve an encoder name (Hugging Face id or local path) through the mirror dirs.

The workflow runs offline wherever a mirror holds the model: ``<mirror>/hf/<model id>/``
is used before the hub is asked. The answer is logged, since results obtained with a
stand-in (the mirror's pruned e5-small, say) must be labelled as such.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

log = logging.getLogger("xlt.encoders")


def resolve_encoder(name: str, mirrors: Iterable[Path]) -> str:
    """A local folder as is; else ``<mirror>/hf/<name>`` from the first mirror holding it;
    else ``name`` itself (a hub id, needing network or the hub cache)."""
    if Path(name).is_dir():
        return name
    tried = []
    for mirror in mirrors:
        candidate = Path(mirror) / "hf" / name
        tried.append(str(candidate))
        if (candidate / "config.json").is_file():
            log.info("encoder %s resolved to mirror copy %s", name, candidate)
            return str(candidate)
    log.info("encoder %s not in any mirror (%s); asking the Hugging Face hub", name, ", ".join(tried) or "none")
    return name
