"""Diffusion Transformer over video latents, conditioned on frame-aligned audio tokens.

After DiT (Peebles & Xie 2023): patch tokens, adaLN-zero blocks, a zeroed final layer. Video
is handled as in Latte (Ma et al. 2024): each block attends within a frame (spatial), then
across frames at each position (temporal), then to the audio sequence (cross), then an MLP.

Beat sync: the adaLN conditioning is PER FRAME,
    c[b, t] = t_emb[b] + target_emb[b] (+ label_emb[b]) + pooled_audio[b] + frame_audio[b, t],
where frame_audio[b, t] is an MLP of frame t's own audio tokens, so every frame's scale/shift/
gate sees its own audio directly; the cross-attention additionally sees the whole sequence.
label_emb is DiT's class embedding (num_labels > 0: which visualizer; index num_labels = none).

Reads top-down: helpers, embedders, attention, the block, the final layer, the model,
positional helpers, and last the size table.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x [B, T, N, D]; shift, scale [B, T, D] (one per frame)."""
    return x * (1 + scale.unsqueeze(2)) + shift.unsqueeze(2)


#################################################################################
#               Embedding Layers for Timesteps, Targets and Audio               #
#################################################################################

class TimestepEmbedder(nn.Module):
    """t [B] continuous in [0, 1] (the schedule's time, same for eps/v and flow) -> [B, D].

    t is scaled by 1000 before the sinusoid so its frequencies match DiT's integer steps.
    """

    def __init__(self, hidden_size: int, frequency_embedding_size: int = 256):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(frequency_embedding_size, hidden_size), nn.SiLU(), nn.Linear(hidden_size, hidden_size))
        self.frequency_embedding_size = frequency_embedding_size

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        t_freq = sincos_embed(1000.0 * t, self.frequency_embedding_size)   # (B, F)
        return self.mlp(t_freq.to(self.mlp[0].weight.dtype))               # (B, D)


class AudioEmbedder(nn.Module):
    """Audio tokens [B, S, Da] (S = T * tokens_per_frame) -> (context [B, S, D], frame_cond [B, T, D]).

    Conditioning dropout lives here, as in DiT's LabelEmbedder: where drop_audio[b] is True the
    tokens are replaced by a learned null-audio sequence (one learned token at every position;
    positions come from the temporal embedding, so it fits any T). The caller draws the mask
    (with its own generator) — see diffusion.objectives.training_loss(p_uncond=...).
    """

    def __init__(self, audio_dim: int, hidden_size: int, tokens_per_frame: int):
        super().__init__()
        self.tokens_per_frame = tokens_per_frame
        self.null_audio = nn.Parameter(torch.zeros(audio_dim))
        self.context_proj = nn.Linear(audio_dim, hidden_size)
        self.frame_proj = nn.Sequential(   # frame t's k tokens, concatenated -> its adaLN input
            nn.Linear(tokens_per_frame * audio_dim, hidden_size), nn.SiLU(), nn.Linear(hidden_size, hidden_size))
        self.pooled_proj = nn.Sequential(  # mean over the clip -> a global adaLN input
            nn.Linear(audio_dim, hidden_size), nn.SiLU(), nn.Linear(hidden_size, hidden_size))

    def forward(self, audio: torch.Tensor, num_frames: int,
                drop_audio: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        B, S, _ = audio.shape
        k = self.tokens_per_frame
        assert S == num_frames * k, f"audio has {S} tokens, expected T*k = {num_frames}*{k}"
        if drop_audio is None:  # still route through where(): keeps null_audio in the graph (DDP)
            drop_audio = torch.zeros(B, dtype=torch.bool, device=audio.device)
        audio = torch.where(drop_audio.view(B, 1, 1), self.null_audio.to(audio.dtype), audio)
        pos = (torch.arange(S, device=audio.device, dtype=torch.float32) + 0.5) / k - 0.5  # in frames
        context = self.context_proj(audio)                                 # (B, S, D)
        context = context + sincos_embed(pos, context.shape[-1]).to(context.dtype)
        frame = self.frame_proj(rearrange(audio, "b (t k) d -> b t (k d)", k=k))  # (B, T, D)
        pooled = self.pooled_proj(audio.mean(dim=1))                       # (B, D)
        return context, frame + pooled.unsqueeze(1)                        # (B, S, D), (B, T, D)


#################################################################################
#                              Core DiT Model                                   #
#################################################################################

def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product attention; on the CPU always in fp32, outside any bf16 autocast.

    torch 2.11's CPU flash-attention backward is 2-12x slower in bf16 than in fp32 at the DiT's
    shapes (`scripts/attention_probe.py`), enough to make a bf16 DiT step slower than an fp32 one
    although its matmuls run faster. fp32 inputs give the same numbers as before.
    """
    if q.device.type != "cpu":
        return F.scaled_dot_product_attention(q, k, v)
    with torch.autocast("cpu", enabled=False):
        out = F.scaled_dot_product_attention(q.float(), k.float(), v.float())
    return out.to(v.dtype)


class Attention(nn.Module):
    """Multi-head attention with QK-RMSNorm (Dehghani et al. 2023); self- or cross- (context)."""

    def __init__(self, dim: int, num_heads: int, qk_norm: bool = True):
        super().__init__()
        assert dim % num_heads == 0
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.q_norm = nn.RMSNorm(dim // num_heads, eps=1e-6) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(dim // num_heads, eps=1e-6) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        q = rearrange(self.q(x), "b n (h e) -> b h n e", h=self.num_heads)          # (B, H, N, E)
        k, v = rearrange(self.kv(x if context is None else context),
                         "b m (two h e) -> two b h m e", two=2, h=self.num_heads)  # 2 x (B, H, M, E)
        q, k = self.q_norm(q.float()).to(v.dtype), self.k_norm(k.float()).to(v.dtype)  # norm in fp32
        x = attention(q, k, v)                                                     # (B, H, N, E)
        return self.proj(rearrange(x, "b h n e -> b n (h e)"))                     # (B, N, D)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class DiTBlock(nn.Module):
    """Spatial attn -> temporal attn -> cross-attn to audio -> MLP, each with per-frame adaLN-zero."""

    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        norm = lambda: nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.norm1, self.spatial_attn = norm(), Attention(hidden_size, num_heads)
        self.norm2, self.temporal_attn = norm(), Attention(hidden_size, num_heads)
        self.norm3, self.cross_attn = norm(), Attention(hidden_size, num_heads)
        self.norm4, self.mlp = norm(), Mlp(hidden_size, int(hidden_size * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 12 * hidden_size))

    def forward(self, x: torch.Tensor, c: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        B, T, N, D = x.shape                                   # x (B, T, N, D), c (B, T, D), context (B, S, D)
        (shift_s, scale_s, gate_s, shift_t, scale_t, gate_t,
         shift_x, scale_x, gate_x, shift_m, scale_m, gate_m) = self.adaLN_modulation(c).chunk(12, dim=-1)
        h = rearrange(modulate(self.norm1(x), shift_s, scale_s), "b t n d -> (b t) n d")
        x = x + gate_s.unsqueeze(2) * rearrange(self.spatial_attn(h), "(b t) n d -> b t n d", b=B)
        h = rearrange(modulate(self.norm2(x), shift_t, scale_t), "b t n d -> (b n) t d")
        x = x + gate_t.unsqueeze(2) * rearrange(self.temporal_attn(h), "(b n) t d -> b t n d", b=B)
        h = rearrange(modulate(self.norm3(x), shift_x, scale_x), "b t n d -> b (t n) d")
        x = x + gate_x.unsqueeze(2) * rearrange(self.cross_attn(h, context), "b (t n) d -> b t n d", t=T)
        x = x + gate_m.unsqueeze(2) * self.mlp(modulate(self.norm4(x), shift_m, scale_m))
        return x                                               # (B, T, N, D)


class FinalLayer(nn.Module):
    """Per-frame adaLN, then a linear map of each token back to a p x p x Cz patch."""

    def __init__(self, hidden_size: int, patch_size: int, out_channels: int):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden_size, patch_size * patch_size * out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 2 * hidden_size))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=-1)          # 2 x (B, T, D)
        return self.linear(modulate(self.norm_final(x), shift, scale))    # (B, T, N, p*p*C)


class DiT(nn.Module):
    """Denoiser backbone: forward(x [B,T,Cz,h,w], t [B], audio [B,S,Da], drop_audio [B] bool,
    target [B] long, label [B] long, x_self_cond [B,T,Cz,h,w] (with self_cond), key [B, key_inputs]
    (with key_inputs)) -> [B,T,Cz,h,w]. The output's meaning (eps / v / x0 / flow velocity) is
    set by the wrapper in diffusion.objectives, never here. Works for any T and any h, w
    divisible by patch_size (positions are sin-cos, computed on the fly).
    """

    def __init__(self, in_channels: int = 8, patch_size: int = 2, hidden_size: int = 128,
                 depth: int = 4, num_heads: int = 4, mlp_ratio: float = 4.0, audio_dim: int = 128,
                 audio_tokens_per_frame: int = 1, num_targets: int = 2, num_labels: int = 0,
                 self_cond: bool = False, label_layout: int = 0, key_inputs: int = 0):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, in_channels
        self.patch_size, self.hidden_size = patch_size, hidden_size
        # self-conditioning: the previous x0 estimate enters beside x_t as C more input channels
        self.self_cond = self_cond
        self.x_embedder = nn.Conv2d(in_channels * (2 if self_cond else 1), hidden_size, patch_size, stride=patch_size)
        self.t_embedder = TimestepEmbedder(hidden_size)
        self.target_embedder = nn.Embedding(num_targets, hidden_size)  # 0 = video; 1 reserved for audio
        self.audio_embedder = AudioEmbedder(audio_dim, hidden_size, audio_tokens_per_frame)
        # + 1 row: the null label (none given / dropped). Initialised N(0, 1), not DiT's N(0, 0.02):
        # at 0.02 the label starts at ~1% of the timestep embedding in the adaLN input, and after
        # 3200 steps on `standard` the embeddings had grown only to norm ~1 against the timestep's
        # ~10 (docs/experiments.md, `standard` on the CPU; `scripts/label_probe.py` measures the label's use).
        self.num_labels = num_labels
        self.label_embedder = nn.Embedding(num_labels + 1, hidden_size) if num_labels else None
        # label_layout > 0 (latent cells per side): a learned map per label, added to every frame's
        # patch tokens. adaLN gives the label a per-channel scale and shift only; this is a direct
        # path from the label to where things are in the frame. Zeros (no RNG drawn: the other
        # initial weights stay those of the model without it), resized if the grid differs.
        self.label_layout = None
        if num_labels and label_layout:
            side = label_layout // patch_size
            self.label_layout = nn.Parameter(torch.zeros(num_labels + 1, hidden_size, side, side))
        self.blocks = nn.ModuleList([DiTBlock(hidden_size, num_heads, mlp_ratio) for _ in range(depth)])
        self.final_layer = FinalLayer(hidden_size, patch_size, self.out_channels)
        # key_inputs > 0: the audio's key evidence (AudioEncoder.key_correlations) straight into the
        # adaLN condition, at the label's scale (see `label_embedder`); zeros where the audio is
        # dropped. Built last, so the other initial weights stay those of the model without it.
        self.key_embedder = nn.Linear(key_inputs, hidden_size) if key_inputs else None
        self.initialize_weights()

    def initialize_weights(self):
        # Transformer layers: xavier-uniform, zero bias (as DiT).
        def _basic_init(module):
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        self.apply(_basic_init)
        # Patch embedding like nn.Linear (DiT).
        w = self.x_embedder.weight.data
        nn.init.xavier_uniform_(w.view([w.shape[0], -1]))
        nn.init.zeros_(self.x_embedder.bias)
        # Embedding tables and MLPs: N(0, 0.02).
        nn.init.normal_(self.target_embedder.weight, std=0.02)
        if self.label_embedder is not None:   # N(0, 1), see `label_embedder` above
            nn.init.normal_(self.label_embedder.weight, std=1.0)
        nn.init.normal_(self.audio_embedder.null_audio, std=0.02)
        if self.key_embedder is not None:   # correlations of norm ~2 in: about N(0, 1) out, as the label
            nn.init.normal_(self.key_embedder.weight, std=0.5)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
        # adaLN-zero: every block starts as the identity ...
        for block in self.blocks:
            nn.init.zeros_(block.adaLN_modulation[-1].weight)
            nn.init.zeros_(block.adaLN_modulation[-1].bias)
        # ... and the output layer at zero.
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].weight)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, audio: torch.Tensor,
                drop_audio: torch.Tensor | None = None, target: torch.Tensor | None = None,
                label: torch.Tensor | None = None, x_self_cond: torch.Tensor | None = None,
                key: torch.Tensor | None = None) -> torch.Tensor:
        B, T, C, H, W = x.shape
        p = self.patch_size
        h, w = H // p, W // p
        if target is None:
            target = torch.zeros(B, dtype=torch.long, device=x.device)
        if self.label_embedder is not None and label is None:
            label = torch.full((B,), self.num_labels, dtype=torch.long, device=x.device)
        if self.self_cond:       # no estimate yet (first step, or half the training steps): zeros
            x = torch.cat([x, torch.zeros_like(x) if x_self_cond is None else x_self_cond.to(x.dtype)], dim=2)
        x = self.x_embedder(rearrange(x, "b t c h w -> (b t) c h w"))            # (B*T, D, h, w)
        x = rearrange(x, "(b t) d h w -> b t (h w) d", b=B)                       # (B, T, N, D)
        pos = spatial_pos_embed(h, w, self.hidden_size, x.device)[None, None]     # (1, 1, N, D)
        pos = pos + temporal_pos_embed(T, self.hidden_size, x.device)[None, :, None]  # (1, T, N, D)
        x = x + pos.to(x.dtype)
        if self.label_layout is not None:
            layout = self.label_layout[label]                                     # (B, D, h0, w0)
            if layout.shape[-2:] != (h, w):
                layout = F.interpolate(layout, size=(h, w), mode="bilinear", align_corners=False)
            x = x + rearrange(layout, "b d h w -> b 1 (h w) d").to(x.dtype)      # (B, T, N, D)
        context, c_frame = self.audio_embedder(audio, T, drop_audio)             # (B, S, D), (B, T, D)
        c = self.t_embedder(t) + self.target_embedder(target)                    # (B, D)
        if self.label_embedder is not None:
            c = c + self.label_embedder(label)
        if self.key_embedder is not None:
            assert key is not None, "this DiT takes the audio's key evidence"
            if drop_audio is not None:   # the null audio has no key
                key = torch.where(drop_audio.view(B, 1), torch.zeros_like(key), key)
            c = c + self.key_embedder(key.to(c.dtype))
        c = c.unsqueeze(1) + c_frame                                              # (B, T, D)
        for block in self.blocks:
            x = block(x, c, context)                                              # (B, T, N, D)
        x = self.final_layer(x, c)                                                # (B, T, N, p*p*C)
        return rearrange(x, "b t (h w) (p q c) -> b t c (h p) (w q)", h=h, p=p, q=p)  # (B, T, C, H, W)


#################################################################################
#                      Sine/Cosine Positional Embedding Functions               #
#################################################################################
# float32 throughout (no float64: MPS has none).

def sincos_embed(pos: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """pos [...] (any float positions) -> [..., dim] = [cos(pos * f_i), sin(pos * f_i)] (Vaswani et al. 2017)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=pos.device) / half)
    args = pos.float().unsqueeze(-1) * freqs                                     # (..., dim/2)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, dim % 2))


def spatial_pos_embed(h: int, w: int, dim: int, device=None) -> torch.Tensor:
    """2D sin-cos over an h x w grid -> [h*w, dim]: half the channels for rows, half for columns."""
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=device),
                                torch.arange(w, dtype=torch.float32, device=device), indexing="ij")
    return torch.cat([sincos_embed(rows.flatten(), dim // 2), sincos_embed(cols.flatten(), dim - dim // 2)], dim=-1)


def temporal_pos_embed(num_frames: int, dim: int, device=None) -> torch.Tensor:
    """1D sin-cos over frame index -> [T, dim]; any T (periods up to 10000 frames)."""
    return sincos_embed(torch.arange(num_frames, dtype=torch.float32, device=device), dim)


#################################################################################
#                                 DiT Configs                                   #
#################################################################################
# /p is the patch size on the 8x8 latent grid: /2 -> 16 tokens per frame, /1 -> 64.

def DiT_B_1(**kwargs): return DiT(depth=12, hidden_size=384, patch_size=1, num_heads=6, **kwargs)
def DiT_B_2(**kwargs): return DiT(depth=12, hidden_size=384, patch_size=2, num_heads=6, **kwargs)
def DiT_S_1(**kwargs): return DiT(depth=6, hidden_size=256, patch_size=1, num_heads=4, **kwargs)
def DiT_S_2(**kwargs): return DiT(depth=6, hidden_size=256, patch_size=2, num_heads=4, **kwargs)
def DiT_T_1(**kwargs): return DiT(depth=4, hidden_size=128, patch_size=1, num_heads=4, **kwargs)
def DiT_T_2(**kwargs): return DiT(depth=4, hidden_size=128, patch_size=2, num_heads=4, **kwargs)


DiT_models = {
    "DiT-B/1": DiT_B_1, "DiT-B/2": DiT_B_2,
    "DiT-S/1": DiT_S_1, "DiT-S/2": DiT_S_2,
    "DiT-T/1": DiT_T_1, "DiT-T/2": DiT_T_2,
}
