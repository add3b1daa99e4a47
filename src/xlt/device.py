"""Pick the torch device for a run: the GPU when one is visible and wanted, else the CPU."""

from __future__ import annotations

import logging

import torch

log = logging.getLogger("xlt.device")


def pick_device(prefer_gpu: bool = True) -> torch.device:
    """``cuda`` if ``prefer_gpu`` and CUDA is available, otherwise ``cpu``; logs the choice.

    The CPU fallback lets a rule that asks for a GPU still run where none is visible (a laptop,
    a CI runner); the log says which device was used, since timings differ.
    """
    if prefer_gpu and torch.cuda.is_available():
        device = torch.device("cuda")
        log.info("using GPU %s", torch.cuda.get_device_name(device))
    else:
        device = torch.device("cpu")
        reason = "no GPU visible" if prefer_gpu else "CPU requested"
        log.info("using CPU (%s, %d threads)", reason, torch.get_num_threads())
    return device
