"""A short description of the machine a benchmark ran on, stored with its figures."""

from __future__ import annotations

import os
import platform

import torch

from synesthete.device import cpu_has_native_bf16


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_native_bf16": cpu_has_native_bf16(),   # "AMD EPYC" names several generations; this tells them apart
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "mps": torch.backends.mps.is_available(),
    }
