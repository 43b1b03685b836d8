"""Schedules, training objectives, samplers and guidance as plain functions over a denoiser callable."""

from synesthete.diffusion.guidance import cfg_denoiser
from synesthete.diffusion.objectives import OBJECTIVES, Denoiser, default_schedule, to_denoiser, training_loss
from synesthete.diffusion.sampling import sample_ddim, sample_euler_flow, timesteps
from synesthete.diffusion.schedule import CosineSchedule, FlowSchedule, NoiseSchedule
from synesthete.diffusion.self_cond import SelfConditioned

__all__ = ["OBJECTIVES", "CosineSchedule", "Denoiser", "FlowSchedule", "NoiseSchedule", "SelfConditioned", "cfg_denoiser",
           "default_schedule", "sample_ddim", "sample_euler_flow", "timesteps", "to_denoiser", "training_loss"]
