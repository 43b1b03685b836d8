"""The shared training loop on a toy task: learning, checkpoints, exact resume, NaN handling, DDP."""

import dataclasses
import json
import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from synesthete.config import Config, TrainConfig, load_config
import synesthete.device
from synesthete.device import cpu_has_native_bf16, cpu_threads_for_training, data_workers, use_bf16
from synesthete.train.builders import build_denoiser, build_inference_vae, build_vae, load_trained
from synesthete.train.checkpoint import (CheckpointError, latest_checkpoint, list_checkpoints, load_weights, read_state,
                                         save_checkpoint)
from synesthete.train.loop import fit, lr_at
from helpers import randomize_zeroed

W_TRUE = torch.tensor([[1.0, -2.0, 0.5, 3.0]])


class ToyTask:
    """Linear regression whose batch for step k is a pure function of k."""

    name = "toy"
    compat_keys = ["data.size"]
    clips_per_step = 16

    def __init__(self, steps=60, nan_steps=(), interrupt_at=None, **train):
        torch.manual_seed(0)
        self.model = nn.Linear(4, 1)
        self.train_cfg = TrainConfig(steps=steps, batch=16, lr=0.05, warmup_steps=5, log_every=5,
                                     val_every=20, ckpt_every=20, ema_decay=0.9, **train)
        self.nan_steps = set(nan_steps)
        self.interrupt_at = interrupt_at
        self.seen: list[int] = []
        self.autocast: list[bool] = []   # bf16 autocast on at each step

    def batches(self, start_step, rank, world, workers):
        step = start_step
        while True:
            g = torch.Generator().manual_seed(step * world + rank)
            x = torch.randn(16, 4, generator=g)
            yield step, x, x @ W_TRUE.T
            step += 1

    def loss(self, model, batch, gen):
        step, x, y = batch
        if step == self.interrupt_at:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-run
        self.seen.append(step)
        self.autocast.append(torch.is_autocast_enabled("cpu"))
        loss = ((model(x) - y) ** 2).mean()
        if step in self.nan_steps:  # a transient blow-up: the replayed step is fine
            self.nan_steps.discard(step)
            loss = loss * float("nan")
        return loss, {}

    def validate(self, ema_model, step, out_dir):
        g = torch.Generator().manual_seed(1234)
        x = torch.randn(64, 4, generator=g)
        return {"val_loss": float(((ema_model(x) - x @ W_TRUE.T) ** 2).mean())}

    def state_extra(self):
        return {}


def _cfg(**data):
    return dataclasses.replace(Config(), data=dataclasses.replace(Config().data, **data))


def test_loss_falls_and_checkpoints_are_kept(tmp_path):
    task = ToyTask(steps=100)
    final = fit(task, _cfg(), tmp_path, torch.device("cpu"), progress=False)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert losses[-1] < 0.05 * losses[0]
    times = [r["time"] for r in rows]   # wall clock on every row, in order
    assert times == sorted(times) and times[-1] - times[0] < 3600
    assert [p.name for p in list_checkpoints(tmp_path / "toy")] == ["step_000060", "step_000080", "step_000100"]
    assert (tmp_path / "toy" / "best" / "model.safetensors").exists()
    state = read_state(final)
    assert state["step"] == 100 and state["finished"] and state["config_hash"] == _cfg().hash()
    assert set(load_weights(final)) == {"weight", "bias"}
    # a finished stage is skipped
    again = ToyTask(steps=100)
    assert fit(again, _cfg(), tmp_path, torch.device("cpu"), progress=False) == final and again.seen == []


def test_resume_continues_exactly(tmp_path):
    full = ToyTask(steps=60)
    fit(full, _cfg(), tmp_path / "a", torch.device("cpu"), progress=False)

    first = ToyTask(steps=60, interrupt_at=47)  # interrupted after the step-40 checkpoint ...
    with pytest.raises(KeyboardInterrupt):
        fit(first, _cfg(), tmp_path / "b", torch.device("cpu"), progress=False)
    resumed = ToyTask(steps=60)  # ... and started again
    fit(resumed, _cfg(), tmp_path / "b", torch.device("cpu"), progress=False)
    assert resumed.seen[0] == 40
    a = load_weights(latest_checkpoint(tmp_path / "a" / "toy"), "model")
    b = load_weights(latest_checkpoint(tmp_path / "b" / "toy"), "model")
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ea = load_weights(latest_checkpoint(tmp_path / "a" / "toy"), "ema")
    eb = load_weights(latest_checkpoint(tmp_path / "b" / "toy"), "ema")
    assert all(torch.equal(ea[k], eb[k]) for k in ea)


def test_training_seconds_carry_across_a_resume(tmp_path):
    """The seconds behind a checkpoint's weights (the evaluation's budget of a baseline) are the
    interrupted run's plus the resumed one's; a checkpoint from before they were kept leaves them unknown."""
    with pytest.raises(KeyboardInterrupt):
        fit(ToyTask(steps=60, interrupt_at=47), _cfg(), tmp_path, torch.device("cpu"), progress=False)
    at40 = tmp_path / "toy" / "step_000040" / "state.json"
    state = json.loads(at40.read_text())
    assert 0 < state["train_seconds"] < 600
    at40.write_text(json.dumps({**state, "train_seconds": 1000.0}))   # as if the first 40 steps took 1000 s
    final = fit(ToyTask(steps=60), _cfg(), tmp_path, torch.device("cpu"), progress=False)
    assert 1000 < read_state(final)["train_seconds"] < 1600

    for ckpt in list_checkpoints(tmp_path / "toy"):                  # made before the key existed
        kept = json.loads((ckpt / "state.json").read_text())
        (ckpt / "state.json").write_text(json.dumps({k: v for k, v in kept.items() if k != "train_seconds"}))
    final = fit(ToyTask(steps=80), _cfg(), tmp_path, torch.device("cpu"), progress=False)
    assert read_state(final)["train_seconds"] is None


def test_a_damaged_checkpoint_is_passed_over_and_training_replaces_it(tmp_path):
    """An interrupted copy of a run (`cp -r`) leaves a checkpoint that cannot be read: the stage resumes
    from the one before, names the damaged one, and still ends exactly where an unbroken run does."""
    import io

    from rich.console import Console

    fit(ToyTask(steps=60), _cfg(), tmp_path / "a", torch.device("cpu"), progress=False)
    with pytest.raises(KeyboardInterrupt):
        fit(ToyTask(steps=60, interrupt_at=47), _cfg(), tmp_path / "b", torch.device("cpu"), progress=False)
    damaged = tmp_path / "b" / "toy" / "step_000040" / "model.safetensors"
    damaged.write_bytes(damaged.read_bytes()[:20])
    log = io.StringIO()
    resumed = ToyTask(steps=60)
    fit(resumed, _cfg(), tmp_path / "b", torch.device("cpu"), progress=False, console=Console(file=log, width=400))
    assert resumed.seen[0] == 20
    assert f"toy: cannot read {damaged}" in log.getvalue() and "resuming from the checkpoint before it" in log.getvalue()
    a = load_weights(latest_checkpoint(tmp_path / "a" / "toy"), "model")
    b = load_weights(latest_checkpoint(tmp_path / "b" / "toy"), "model")
    assert all(torch.equal(a[k], b[k]) for k in a)
    load_weights(tmp_path / "b" / "toy" / "step_000040", "model")          # rewritten on the way

    for ckpt in list_checkpoints(tmp_path / "b" / "toy"):                   # nothing readable left
        (ckpt / "state.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"every checkpoint in .*toy is damaged: move the folder aside"):
        fit(ToyTask(steps=80), _cfg(), tmp_path / "b", torch.device("cpu"), progress=False)


def test_incompatible_checkpoint_is_one_clear_line(tmp_path):
    fit(ToyTask(steps=20), _cfg(), tmp_path, torch.device("cpu"), progress=False)
    with pytest.raises(CheckpointError) as e:
        fit(ToyTask(steps=40), _cfg(size=64), tmp_path, torch.device("cpu"), progress=False)
    msg = str(e.value)
    assert "incompatible config" in msg and "data.size (128 in checkpoint vs 64 now)" in msg and "\n" not in msg


def test_weights_that_do_not_fit_name_the_key_in_one_line(tmp_path):
    cfg = load_config(None, ["data.size=32", "vae.adv_weight=0.1", "vae.critic_width=8"])
    weights = build_vae(cfg).state_dict()
    ckpt = save_checkpoint(tmp_path, 1, weights, {"config": dataclasses.asdict(cfg)}, ema=weights)
    assert load_trained(ckpt, build_vae, torch.device("cpu"))[0].critic is not None   # fits its own model

    def narrower(c):                                                   # as a changed default would
        return build_vae(dataclasses.replace(c, vae=dataclasses.replace(c.vae, critic_width=4)))

    with pytest.raises(CheckpointError) as e:
        load_trained(ckpt, narrower, torch.device("cpu"))
    msg = str(e.value)
    assert "size mismatch for critic.net.0.weight" in msg and "\n" not in msg


def test_inference_loads_the_vae_without_its_critic(tmp_path):
    cfg = load_config(None, ["data.size=32", "vae.adv_weight=0.1", "vae.critic_width=8"])
    trained = build_vae(cfg)
    randomize_zeroed(trained)
    weights = trained.state_dict()
    ckpt = save_checkpoint(tmp_path, 1, weights, {"config": dataclasses.asdict(cfg)}, ema=weights)
    vae = load_trained(ckpt, build_inference_vae, torch.device("cpu"))[0]
    assert vae.critic is None and not any(k.startswith("critic.") for k in vae.state_dict())
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(vae.decode(vae.encode(x)[0]), trained.eval().decode(trained.encode(x)[0]))
    del weights["decoder.out.2.weight"]                                 # strict for everything else
    broken = save_checkpoint(tmp_path / "b", 1, weights, {"config": dataclasses.asdict(cfg)}, ema=weights)
    with pytest.raises(CheckpointError, match="decoder.out.2.weight"):
        load_trained(broken, build_inference_vae, torch.device("cpu"))


def test_nan_steps_are_skipped_then_rolled_back(tmp_path):
    task = ToyTask(steps=60, nan_steps={25}, max_bad_steps=3)
    with pytest.warns(UserWarning, match="non-finite"):
        fit(task, _cfg(), tmp_path, torch.device("cpu"), progress=False)
    assert read_state(latest_checkpoint(tmp_path / "toy"))["lr_scale"] == 1.0

    task = ToyTask(steps=60, nan_steps={30, 31, 32}, max_bad_steps=3)
    with pytest.warns(UserWarning) as record:
        fit(task, _cfg(), tmp_path / "r", torch.device("cpu"), progress=False)
    messages = [str(w.message) for w in record]
    assert sum("step skipped" in m for m in messages) == 3   # steps 30-32 skipped (max_bad_steps), then the rollback
    assert any("rolled back to step 20" in m for m in messages)
    assert task.seen.count(21) == 2  # steps after the checkpoint were replayed
    assert read_state(latest_checkpoint(tmp_path / "r" / "toy"))["lr_scale"] == 0.5


def test_a_rollback_keeps_the_seconds_it_spent(tmp_path):
    """Steps undone by a rollback were still paid for: `train_seconds` (a baseline's budget in the
    evaluation) counts them, not only the time behind the checkpoint it went back to."""
    class SlowStep25(ToyTask):
        def loss(self, model, batch, gen):
            if batch[0] == 25 and 25 not in self.seen:   # only the first pass, before the rollback
                time.sleep(2.0)
            return super().loss(model, batch, gen)

    task = SlowStep25(steps=60, nan_steps={30, 31, 32}, max_bad_steps=3)
    with pytest.warns(UserWarning, match="rolled back to step 20"):
        final = fit(task, _cfg(), tmp_path, torch.device("cpu"), progress=False)
    assert task.seen.count(25) == 2
    assert read_state(final)["train_seconds"] >= 2.0


def test_validation_at_epoch_ends(tmp_path):
    task = ToyTask(steps=30)
    fit(task, _cfg(epoch_size=16 * 12), tmp_path, torch.device("cpu"), progress=False)  # 12 steps an epoch
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "val_loss" in r] == [12, 24, 30]


def test_lr_schedule():
    cfg = TrainConfig(steps=100, lr=1.0, warmup_steps=10)
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(100, cfg) == pytest.approx(0.1)


# --- DDP: 2 CPU processes over gloo ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    task = ToyTask(steps=1, grad_clip=1e9)  # no clipping: .grad stays the raw average
    grads = {}
    task.model.weight.register_hook(lambda g: grads.setdefault("w", g.clone()))
    fit(task, Config(), Path(out), torch.device("cpu"), progress=False)
    torch.save({"local_grad": grads["w"], "grad": task.model.weight.grad.clone(), "weight": task.model.weight.detach().clone(), "seen": task.seen},
               Path(out) / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def test_ddp_two_processes_agree(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    # each rank computed its local gradient on its own batch ...
    assert not torch.allclose(r0["local_grad"], r1["local_grad"])
    # ... and after DDP's all-reduce both hold the same (averaged) gradient and weights
    assert torch.equal(r0["grad"], r1["grad"])
    assert torch.allclose(r0["grad"], (r0["local_grad"] + r1["local_grad"]) / 2, atol=1e-6)
    assert torch.equal(r0["weight"], r1["weight"])
    assert r0["seen"] == r1["seen"] == [0]


def test_wandb_mode_validation():
    with pytest.raises(Exception, match=r"^wandb.mode: must be one of"):
        load_config(None, ["wandb.mode=sometimes"])


def test_wandb_that_cannot_start_is_one_line_before_training(tmp_path, monkeypatch):
    """wandb.mode=online without an API key: W&B's own error, as a config error naming the way out."""
    import wandb

    from synesthete.config import ConfigError
    from synesthete.train.tracker import Tracker

    def no_key(**kwargs):
        raise wandb.errors.UsageError("No API key configured. Use `wandb login` to log in.")
    monkeypatch.setattr(wandb, "init", no_key)
    with pytest.raises(ConfigError, match=r"^wandb.mode: W&B cannot start online: No API key configured\. "
                                          r".*wandb.mode=disabled\)$"):
        Tracker(tmp_path, "vae", {}, mode="online")
    assert not (tmp_path / "metrics.jsonl").exists()


def test_cpu_threads_for_training_leaves_cores_to_workers_and_restores(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    try:
        torch.set_num_threads(8)
        with cpu_threads_for_training(torch.device("cpu"), workers=3) as n:
            assert n == torch.get_num_threads() == 5
        assert torch.get_num_threads() == 8
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")          # two torchrun processes share the node
        with cpu_threads_for_training(torch.device("cpu"), workers=0) as n:
            assert n == 4
        torch.set_num_threads(2)                              # never more than the caller allowed
        with cpu_threads_for_training(torch.device("cpu"), workers=0) as n:
            assert n == 2
        with cpu_threads_for_training(torch.device("meta"), workers=0) as n:
            assert n == 2                                     # other devices: untouched
    finally:
        torch.set_num_threads(before)


def test_data_workers_auto_is_per_device():
    assert data_workers(3, torch.device("cpu")) == 3                 # an explicit count is kept
    assert data_workers(None, torch.device("cpu")) == 0              # CPU: render between steps
    assert data_workers(None, torch.device("cuda")) == data_workers(None, torch.device("mps")) == 1
    assert load_config("standard").dit.train.workers is None        # presets leave the DiT on auto


def test_bf16_auto_is_per_machine_and_recorded(tmp_path, monkeypatch):
    """train.bf16 null (auto): bf16 autocast where the CPU computes bf16 natively, fp32 elsewhere and
    on other devices; true / false are kept as given. The checkpoint records what the stage used."""
    cpu = torch.device("cpu")
    for native in (True, False):
        monkeypatch.setattr(synesthete.device, "cpu_has_native_bf16", lambda: native)
        assert use_bf16(None, cpu) is native
        assert not use_bf16(None, torch.device("cuda")) and not use_bf16(None, torch.device("mps"))
        assert use_bf16(True, cpu) and not use_bf16(False, cpu)
        task = ToyTask(steps=20, bf16=None)
        final = fit(task, _cfg(), tmp_path / str(native), cpu, progress=False)
        assert set(task.autocast) == {native} and read_state(final)["bf16"] is native
    assert load_config("standard").vae.train.bf16 is None                  # the VAE on auto
    assert load_config("standard").dit.train.bf16 is False                 # the DiT: fp32 by measurement


def test_native_bf16_check_reads_torch_and_tolerates_its_absence(monkeypatch):
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, name, lambda: False, raising=False)
    assert cpu_has_native_bf16() is False
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert cpu_has_native_bf16() is True
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    assert cpu_has_native_bf16() is False


def test_initial_weights_are_a_function_of_the_seed():
    """Two runs of one config start from the same weights (a fresh run is reproducible);
    another data.seed draws others; the global RNG is left as it was."""
    rng = torch.get_rng_state()
    for build in (build_vae, build_denoiser):
        a, b, c = build(_cfg()).state_dict(), build(_cfg()).state_dict(), build(_cfg(seed=1)).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert not all(torch.equal(a[k], c[k]) for k in a)
    assert torch.equal(torch.get_rng_state(), rng)
