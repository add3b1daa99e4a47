"""A pretrained LM as a file artifact: ``lm.safetensors`` (the weights) + ``lm.json`` (the
architecture, each language's vocabulary, the training history, config, provenance and the
weights' sha256, checked on load).

The LM stage writes it once per (variant, language group) and every tagger that reads CLCR
features loads it frozen, so a tagger change never retrains an LM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from xlt.atomic import atomic_path, atomic_write_json
from xlt.errors import InputError
from xlt.fetch import sha256_file
from xlt.lms.bilm import BiTransformerLM
from xlt.lms.vocab import LMVocab

ARCHITECTURE_KEYS = ("d_model", "layers", "heads", "ffn", "dropout")


def save_lm(weights_path: str | Path, json_path: str | Path, model: BiTransformerLM,
            vocabs: dict[str, LMVocab], architecture: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """Write the weights, then the manifest that names their digest (both atomically)."""
    with atomic_path(weights_path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
    manifest = {
        **record,
        "architecture": {k: architecture[k] for k in ARCHITECTURE_KEYS},
        "languages": sorted(vocabs),
        "vocabs": {lang: {"tokens": list(v.tokens), "counts": list(v.counts)} for lang, v in sorted(vocabs.items())},
        "weights": {"file": Path(weights_path).name, "sha256": sha256_file(weights_path)},
    }
    atomic_write_json(json_path, manifest, indent=1)
    return manifest


def read_lm_manifest(json_path: str | Path) -> dict[str, Any]:
    json_path = Path(json_path)
    try:
        manifest = json.loads(json_path.read_text(encoding="utf-8"))
        for key in ("architecture", "vocabs", "weights"):
            manifest[key]  # noqa: B018 (presence check)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(json_path, None, f"not an LM manifest ({exc!r})") from exc
    return manifest


def load_lm(json_path: str | Path) -> tuple[BiTransformerLM, dict[str, LMVocab], dict[str, Any]]:
    """The LM of a manifest (eval mode, weights checked against their recorded sha256), its
    vocabularies and the manifest."""
    json_path = Path(json_path)
    manifest = read_lm_manifest(json_path)
    weights = json_path.parent / manifest["weights"]["file"]
    digest = sha256_file(weights)
    if digest != manifest["weights"]["sha256"]:
        raise InputError(weights, None, f"sha256 {digest} differs from the {manifest['weights']['sha256']} "
                                        f"{json_path} records: weights of another LM?")
    vocabs = {lang: LMVocab(tuple(v["tokens"]), tuple(v["counts"])) for lang, v in manifest["vocabs"].items()}
    model = BiTransformerLM({lang: len(v) for lang, v in vocabs.items()}, **manifest["architecture"])
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    return model, vocabs, manifest
