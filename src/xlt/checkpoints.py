"""Checkpoints of a trained model: its trainable weights at each evaluation point, one
safetensors file each.

A model artifact (``xlt.methods.common``) is a ``model.json`` (everything needed to rebuild
the model: method, hyperparameters, vocabularies, the dev-score trace) plus this file. Only the
weights training can change are stored (trainable parameters and buffers): frozen weights come
back from where they came from (the pretrained encoder), so an encoder checkpoint is its top
layers and head, not the whole encoder.

Every evaluation point is kept because selection by *target* dev (Bari's F1*, Bao) is decided
by the per-target evaluation job, long after training: training never reads target data, so
adding a target never retrains. Checkpoints are written as training reaches them (memory stays
flat however many there are) in the checkpoint dtype: float32 by default, bit-identical to the
training process; float16 halves the disk.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from xlt.atomic import atomic_path
from xlt.errors import InputError
from xlt.fetch import sha256_file

Snapshot = dict[str, torch.Tensor]
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def snapshot(model: nn.Module) -> Snapshot:
    """CPU copies of the weights training can change: trainable parameters and buffers."""
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name for name, _ in model.named_buffers()}
    return {
        name: tensor.detach().to("cpu", copy=True)
        for name, tensor in model.state_dict().items()
        if name in trainable or name in buffers
    }


def restore(model: nn.Module, weights: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load ``weights`` into ``model`` (cast to each parameter's dtype and device).

    Every stored tensor must name a weight of the model with the same shape: a checkpoint of
    another model fails here, naming ``source``, instead of loading half its weights.
    """
    state = model.state_dict()
    unknown = sorted(set(weights) - set(state))
    if unknown:
        raise InputError(source, None, f"weights {unknown[:5]} are not in the model "
                                       f"({len(unknown)} unknown): a checkpoint of another model?")
    for name, tensor in weights.items():
        if tuple(tensor.shape) != tuple(state[name].shape):
            raise InputError(source, None, f"weight {name!r} has shape {tuple(tensor.shape)}, "
                                           f"the model expects {tuple(state[name].shape)}")
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    missing = sorted(trainable - set(weights))
    if missing:
        raise InputError(source, None, f"trainable weights {missing[:5]} are missing "
                                       f"({len(missing)} in all)")
    with torch.no_grad():
        for name, tensor in weights.items():
            state[name].copy_(tensor.to(dtype=state[name].dtype, device=state[name].device))


def save_snapshot(path: str | Path, weights: Mapping[str, torch.Tensor], dtype: str = "float32") -> str:
    """Write one checkpoint atomically; floating-point tensors are cast to ``dtype``, integer
    buffers keep theirs. Returns the file's sha256, which ``model.json`` records."""
    if dtype not in DTYPES:
        raise ValueError(f"checkpoint dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    tensors = {key: (t.to(DTYPES[dtype]) if t.is_floating_point() else t).contiguous()
               for key, t in weights.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"dtype": dtype})
        digest = sha256_file(tmp)
    return digest


def load_snapshot(path: str | Path, sha256: str | None = None) -> Snapshot:
    """Read a checkpoint; a truncated, corrupt or (given ``sha256``) replaced file fails naming it."""
    path = Path(path)
    if sha256 is not None and path.is_file():
        seen = sha256_file(path)
        if seen != sha256:
            raise InputError(path, None, f"sha256 {seen} differs from {sha256} recorded in the "
                                         "model manifest: the checkpoint was replaced or damaged")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise InputError(path, None, f"not a readable checkpoint (truncated or corrupt?): {err}") from err


def count_parameters(model: nn.Module, exclude: Iterable[nn.Module] = ()) -> int:
    """Parameters of ``model``, leaving out those of the ``exclude`` submodules (e.g. the word
    embedding matrix, which the papers' parameter counts leave out: Bari et al. Table 4)."""
    skip = {id(p) for module in exclude for p in module.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in skip)
