"""Device and precision choice, in one place: MPS first, then CUDA, then CPU."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import torch

from synesthete.config import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """`auto` picks MPS, then CUDA, then CPU; any other name is used as given (after a check)."""
    if name == "auto":
        if torch.backends.mps.is_available():
            return torch.device("mps")
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device: unknown device {name!r} (auto, cpu, cuda, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device: {name!r} was asked for but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device: {name!r} was asked for but MPS is not available")
    return device


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX), as torch's kernels see it.

    Without it bf16 autocast emulates the type and a training step is 12-16x slower (README,
    Benchmarks). torch exposes the check only privately, so a torch without it reads as False.
    """
    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return any(check is not None and bool(check()) for check in checks)


def use_bf16(requested: bool | None, device: torch.device) -> bool:
    """A stage's `train.bf16`: true or false as given; null (auto) = bf16 on a CPU with native bf16 only.

    Measured (README, Benchmarks): there the VAE's step is 1.3-1.9x faster in bf16 at the same PSNR,
    while on an H100 and on CPUs without native bf16 it was slower, so auto stays fp32 elsewhere.
    """
    if requested is not None:
        return requested
    return device.type == "cpu" and cpu_has_native_bf16()


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA and CPU when enabled (`use_bf16` decides); a no-op otherwise.

    MPS keeps float32: its bf16 autocast coverage is partial across macOS versions.
    """
    if not enabled or device.type == "mps":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work: CUDA and MPS run asynchronously, so timers need this."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def data_workers(requested: int | None, device: torch.device) -> int:
    """DataLoader workers for a training stage: `requested`, or for None (auto) 0 on the CPU,
    where rendering between steps costs less than a core lost to a worker (the DiT: 6.5 vs 4.9
    clips/s on 2 cores), and 1 on MPS/CUDA, where a worker renders while the device computes."""
    if requested is not None:
        return requested
    return 0 if device.type == "cpu" else 1


@contextlib.contextmanager
def cpu_threads_for_training(device: torch.device, workers: int) -> Iterator[int]:
    """Give a CPU training stage the cores its data workers do not use; restore the count after.

    Measured on a 2-core CPU: a DiT step with 2 intra-op threads beside one busy data worker
    took 0.4-9.8 s (threads spin-waiting for a core), with 1 thread a steady 0.6 s. Cores are
    shared among the processes of one torchrun node (LOCAL_WORLD_SIZE). Per stage, because the
    stages differ: the DiT renders little per step and trains fastest on every core. Never more
    threads than the caller had set (tests and `--threads` keep theirs).
    """
    before = torch.get_num_threads()
    if device.type != "cpu":
        yield before
        return
    cores = (os.cpu_count() or 1) // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    threads = max(1, min(before, cores - workers))
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def frame_chunk(device: torch.device) -> int:
    """Frames per VAE encode/decode call when whole clips are (de)coded without gradients.

    On the CPU chunks of 16-32 frames are faster (they fit the caches, presumably): VAE-T on
    192 frames of 128 px, 2 threads, two runs of `scripts/bench_frame_chunk.py --repeats 8`:
    encode 0.32 / 0.28 s at 96 frames per call vs 0.28 / 0.25 s at 16, decode 0.59 / 0.56 vs
    0.50 / 0.43 s. Accelerators want large batches.
    """
    return 16 if device.type == "cpu" else 128
