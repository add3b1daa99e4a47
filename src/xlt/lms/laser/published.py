"""The ``import_laser`` job: LASER1's published files to the sentence-encoder artifact.

The paper plan (``laser.source: published``) reads the encoder van der Heijden et al. used:
``bilstm.93langs.2018-12-26.pt`` (``params``: the fairseq ``Encoder``'s constructor
arguments; ``model``: its state dict, one 5-layer bidirectional ``nn.LSTM``; ``dictionary``:
unit -> id) with the fastBPE codes and vocabulary its units come from. The LSTM is mapped
onto :class:`~xlt.lms.laser.model.LaserEncoder`'s layer stack (so LASER-elmo can read every
layer) and written with the fastBPE tokenizer as the same artifact ``pretrain_laser`` writes
for the stand-in, so every tagger reads either through one code path.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from xlt.errors import InputError
from xlt.lms.laser.artifact import save_encoder
from xlt.lms.laser.fastbpe import FastBPETokenizer, read_codes, read_vocab
from xlt.lms.laser.model import encoder_from_laser1
from xlt.provenance import input_hashes, package_versions


def read_laser1_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's ``params``, ``model`` and ``dictionary``, checked (tensors and plain
    containers only: ``weights_only``, no code runs from the file)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle of something else, or a truncated download
        raise InputError(path, None, f"not a LASER checkpoint torch.load can read safely: {error}") from error
    missing = [k for k in ("params", "model", "dictionary") if not isinstance(state, dict) or k not in state]
    if missing:
        raise InputError(path, None, f"not a LASER1 checkpoint: no {missing} entries")
    params = state["params"]
    if not params.get("bidirectional", False):
        raise InputError(path, None, f"LASER1's encoder is a bidirectional LSTM; params say {params}")
    for token in ("<pad>", "</s>", "<unk>"):
        if token not in state["dictionary"]:
            raise InputError(path, None, f"the dictionary has no {token!r}")
    if state["dictionary"]["<pad>"] != params["padding_idx"]:
        raise InputError(path, None, f"padding_idx {params['padding_idx']} is not the dictionary's <pad> "
                                     f"({state['dictionary']['<pad>']})")
    return state


def import_laser1(*, checkpoint: str | Path, codes: str | Path, vocab: str | Path, weights_path: str | Path,
                  bpe_path: str | Path, json_path: str | Path) -> dict[str, Any]:
    started = time.perf_counter()
    state = read_laser1_checkpoint(checkpoint)
    encoder = encoder_from_laser1(state["model"], padding_idx=int(state["params"]["padding_idx"]))
    if encoder.embed_tokens.num_embeddings != len(state["dictionary"]):
        raise InputError(checkpoint, None, f"{encoder.embed_tokens.num_embeddings} embeddings for a dictionary "
                                           f"of {len(state['dictionary'])} units")
    tokenizer = FastBPETokenizer(read_codes(codes), read_vocab(vocab), state["dictionary"])
    record = {
        "kind": "laser1",
        "source": "published LASER1 (bilstm.93langs.2018-12-26.pt, 93langs.fcodes, 93langs.fvocab)",
        "append_eos": True,
        "params": {k: v for k, v in state["params"].items()},
        "n_codes": len(tokenizer.bpe.codes),
        "n_params_encoder": sum(p.numel() for p in encoder.parameters()),
        "import_seconds": round(time.perf_counter() - started, 1),
        "versions": package_versions(),
        "inputs": input_hashes([checkpoint, codes, vocab]),
    }
    return save_encoder(weights_path, bpe_path, json_path, encoder, tokenizer, record)
