"""The sentence encoder as a file artifact: ``encoder.safetensors`` (the encoder's weights; the
decoder is training scaffolding and is not kept), ``encoder.bpe.json`` (the BPE vocabulary, a
Hugging Face ``tokenizers`` file, or LASER1's fastBPE codes, vocabulary and dictionary) and
``encoder.json`` (architecture, training history or source, config, provenance, and the
sha256 of both files, checked on load; ``append_eos``: the encoder reads ``</s>`` after each
sentence, as LASER1 was trained).

Written once by the ``pretrain_laser`` job (the stand-in) or the ``import_laser`` job
(LASER1's published files); every van der Heijden tagger reads it frozen, so a tagger change
never retrains or re-imports the encoder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors.torch import load_file
from tokenizers import Tokenizer

from xlt.atomic import atomic_path, atomic_write_json
from xlt.lms.laser.fastbpe import FastBPETokenizer
from xlt.lms.laser.model import LaserEncoder
from xlt.lms.laser.preprocess import load_bpe
from xlt.lms.manifest import checked_file, file_entry, read_manifest, save_weights

ARCHITECTURE_KEYS = ("vocab_size", "embed_dim", "hidden", "layers", "padding_idx")


def save_encoder(weights_path: str | Path, bpe_path: str | Path, json_path: str | Path, encoder: LaserEncoder,
                 tokenizer: Tokenizer | FastBPETokenizer, record: dict[str, Any]) -> dict[str, Any]:
    """Weights and BPE first, then the manifest naming their digests (all atomically)."""
    weights = save_weights(weights_path, encoder)
    with atomic_path(bpe_path) as tmp:
        tokenizer.save(str(tmp))
    architecture = {"vocab_size": encoder.embed_tokens.num_embeddings, "embed_dim": encoder.embed_tokens.embedding_dim,
                    "hidden": encoder.hidden, "layers": encoder.n_layers, "padding_idx": encoder.padding_idx}
    manifest = {**record, "architecture": architecture, "weights": weights, "bpe": file_entry(bpe_path)}
    atomic_write_json(json_path, manifest, indent=1)
    return manifest


def read_encoder_manifest(json_path: str | Path) -> dict[str, Any]:
    return read_manifest(json_path, ("architecture", "weights", "bpe"), "a sentence-encoder")


def load_encoder(json_path: str | Path) -> tuple[LaserEncoder, Tokenizer | FastBPETokenizer, dict[str, Any]]:
    """The encoder of a manifest (eval mode, files checked against their sha256), its BPE
    tokenizer (the stand-in's ``tokenizers`` BPE or LASER1's fastBPE) and the manifest."""
    json_path = Path(json_path)
    manifest = read_encoder_manifest(json_path)
    weights = checked_file(json_path, manifest["weights"], "encoder")
    bpe = checked_file(json_path, manifest["bpe"], "encoder")
    encoder = LaserEncoder(**{k: manifest["architecture"][k] for k in ARCHITECTURE_KEYS})
    encoder.load_state_dict(load_file(str(weights)))
    encoder.eval()
    return encoder, load_bpe(bpe), manifest
