"""Contact sheets: a strip of frames above the log-mel spectrogram, events marked, one time axis.

The picture to open when asking "does this video move with this music?".
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402

from synesthete import atomic_file  # noqa: E402

EVENT_COLOURS = {
    "kick": "#ff3b30",
    "snare": "#ffcc00",
    "clap": "#ff9500",
    "hat": "#34c759",
    "crash": "#af52de",
    "bass": "#007aff",
    "lead": "#5ac8fa",
    "downbeat": "#ffffff",
}
"""Instruments given an onset lane under the frames (others are left off to keep it readable)."""


def _log_mel(audio: torch.Tensor, sample_rate: int, n_mels: int = 64) -> torch.Tensor:
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=1024, hop_length=sample_rate // 100, n_mels=n_mels
    )(audio.float().reshape(1, -1))[0]
    return torch.log10(mel + 1e-6)


def contact_sheet(
    path: str | Path,
    video: torch.Tensor,
    audio: torch.Tensor,
    fps: int,
    sample_rate: int,
    events: dict[str, torch.Tensor] | None = None,
    title: str = "",
    n_frames: int = 12,
    rows: list[tuple[str, torch.Tensor]] | None = None,
) -> Path:
    """Save a PNG: frame strip(s) over the log-mel with event ticks, all on one time axis.

    video: uint8 [T, 3, H, W]; audio: float [1, L]; `rows` adds more labelled frame strips
    (e.g. generated vs ground truth) above the spectrogram.
    """
    strips = [("video", video)] if rows is None else rows
    seconds = audio.shape[-1] / sample_rate
    t = strips[0][1].shape[0]
    n = min(n_frames, t)
    width = seconds / n
    # thumbnail k fills the slot [k * width, (k + 1) * width] and shows the frame at its centre
    picks = [min(t - 1, int((k + 0.5) * width * fps)) for k in range(n)]

    lanes = [name for name in EVENT_COLOURS if events and len(torch.as_tensor(events.get(name, [])).flatten())]
    fig, axes = plt.subplots(
        len(strips) + 2, 1, figsize=(14, 1.35 * len(strips) + 0.25 * len(lanes) + 2.4),
        gridspec_kw={"height_ratios": [1.0] * len(strips) + [0.06 + 0.13 * len(lanes), 1.5]},
        sharex=True,
    )
    fig.patch.set_facecolor("#111111")
    for ax, (label, frames) in zip(axes[:-2], strips):
        ax.set_facecolor("#111111")
        for k, i in enumerate(picks):
            img = frames[i].permute(1, 2, 0).numpy()
            x0 = k * width
            ax.imshow(img, extent=(x0 + 0.02 * width, x0 + 0.98 * width, 0, 1), aspect="auto")
            ax.text(x0 + 0.5 * width, -0.08, f"{i / fps:.2f}s", color="#aaaaaa", fontsize=6,
                    ha="center", va="top")
        ax.set_ylim(-0.15, 1)
        ax.set_yticks([])
        ax.set_ylabel(label, color="white", fontsize=8)
        for spine in ax.spines.values():
            spine.set_visible(False)

    # one lane of onset ticks per instrument: events that coincide stay readable
    ax = axes[-2]
    ax.set_facecolor("#181818")
    for row, name in enumerate(lanes):
        ts = torch.as_tensor(events[name]).flatten().tolist()
        y = len(lanes) - 1 - row
        ax.vlines(ts, y + 0.1, y + 0.9, colors=EVENT_COLOURS[name], linewidth=1.4)
    ax.set_ylim(0, max(1, len(lanes)))
    ax.set_yticks([len(lanes) - 0.5 - r for r in range(len(lanes))], lanes)
    ax.tick_params(axis="y", colors="white", labelsize=6, length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)

    ax = axes[-1]
    mel = _log_mel(audio, sample_rate)
    ax.imshow(mel.numpy(), origin="lower", aspect="auto", extent=(0, seconds, 0, mel.shape[0]),
              cmap="magma")
    if events is not None and "downbeat" in events:
        ax.vlines(torch.as_tensor(events["downbeat"]).flatten().tolist(), 0, mel.shape[0],
                  colors="white", linewidth=0.6, alpha=0.5)
    ax.set_xlim(0, seconds)
    ax.set_xlabel("seconds", color="white")
    ax.set_ylabel("log-mel", color="white", fontsize=8)
    ax.tick_params(colors="white", labelsize=7)
    if title:
        fig.suptitle(title, color="white", fontsize=9)
    fig.tight_layout()
    return atomic_file.save_figure(fig, path, dpi=110, facecolor=fig.get_facecolor())


def frame_grid(path: Path, rows: list[tuple[str, torch.Tensor]], title: str) -> Path:
    """A PNG of labelled rows of frames (no audio axis: single frames from several clips)."""
    cols = rows[0][1].shape[0]
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.9, len(rows) * 1.0), squeeze=False)
    fig.patch.set_facecolor("#111111")
    for r, (label, frames) in enumerate(rows):
        for c in range(cols):
            ax = axes[r][c]
            ax.imshow(frames[c].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, color="white", fontsize=7)
    fig.suptitle(title, color="white", fontsize=9)
    fig.tight_layout()
    return atomic_file.save_figure(fig, path, dpi=100, facecolor=fig.get_facecolor())
