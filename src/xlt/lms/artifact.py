"""A pretrained LM as a file artifact: ``lm.safetensors`` (the weights) + ``lm.json`` (the
architecture, each language's vocabulary, the training history, config, provenance and the
weights' sha256, checked on load).

The LM stage writes it once per (variant, language group) and every tagger that reads CLCR
features loads it frozen, so a tagger change never retrains an LM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors.torch import load_file

from xlt.atomic import atomic_write_json
from xlt.lms.bilm import BiTransformerLM
from xlt.lms.manifest import checked_file, read_manifest, save_weights
from xlt.lms.vocab import LMVocab

ARCHITECTURE_KEYS = ("d_model", "layers", "heads", "ffn", "dropout")


def save_lm(weights_path: str | Path, json_path: str | Path, model: BiTransformerLM,
            vocabs: dict[str, LMVocab], architecture: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """Write the weights, then the manifest that names their digest (both atomically)."""
    weights = save_weights(weights_path, model)
    manifest = {
        **record,
        "architecture": {k: architecture[k] for k in ARCHITECTURE_KEYS},
        "languages": sorted(vocabs),
        "vocabs": {lang: {"tokens": list(v.tokens), "counts": list(v.counts)} for lang, v in sorted(vocabs.items())},
        "weights": weights,
    }
    atomic_write_json(json_path, manifest, indent=1)
    return manifest


def read_lm_manifest(json_path: str | Path) -> dict[str, Any]:
    return read_manifest(json_path, ("architecture", "vocabs", "weights"), "an LM")


def load_lm(json_path: str | Path) -> tuple[BiTransformerLM, dict[str, LMVocab], dict[str, Any]]:
    """The LM of a manifest (eval mode, weights checked against their recorded sha256), its
    vocabularies and the manifest."""
    json_path = Path(json_path)
    manifest = read_lm_manifest(json_path)
    weights = checked_file(json_path, manifest["weights"], "LM")
    vocabs = {lang: LMVocab(tuple(v["tokens"]), tuple(v["counts"])) for lang, v in manifest["vocabs"].items()}
    model = BiTransformerLM({lang: len(v) for lang, v in vocabs.items()}, **manifest["architecture"])
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    return model, vocabs, manifest
