#!/usr/bin/python3
# The default mmdnn model (DESIGN.md §2, mmdnn_model_config_new_default ())
# in PyTorch 1.13, the peer of tests/bench/bench-model.c: the same
# architecture, parameter names and shapes, the same joint objective, virtual
# data, AdamW (dense, also for the embedding table), clipping and schedule.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   /usr/bin/python3 tests/bench/torch_mmdnn.py --threads 1 [--min-time S]
#   /usr/bin/python3 tests/bench/torch_mmdnn.py --params   # name shape decay
#
# Written as a PyTorch user would write it: batched tensors with masks rather
# than per-sample loops (the C fusion works per sample over the real tokens
# only; here the padded text positions are computed and masked out). The
# structure of the image encoder and the fusion follows
# tests/core/golden/make-encoder-golden.py and make-fusion-golden.py; the
# saliency descriptors (saliency.h) are computed here with batched torch ops
# inside the timed step, as the C side computes them inside its step.
#
# Output: one line per measurement, "torch <what> threads=<n> <value> <unit>",
# read by bench-model.sh.

import argparse
import ctypes
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODS = ("video", "audio", "text")
PAIRS = ((0, 1), (0, 2), (1, 2))
PAIR_NAMES = ("video_audio", "video_text", "audio_text")

# mmdnn_model_config_new_default ()
CFG = dict(
    video=dict(c=3, h=64, w=64, gh=4, gw=4),
    audio=dict(c=1, h=64, w=100, gh=1, gw=10),
    img=dict(d=128, a=16, lat=32, m=16, m2=64, m3=128, s=64),
    text=dict(buckets=16384, L=32, M=16, E=64, d=128, A=32, m=32, m2=128, s=16),
    fusion=dict(d=128, tokens=(16, 10, 32), h=64, tau=0.1),
    tasks=(("class", 10, 1.0), ("speaker_gender", 2, 1.0)),
    w_aux=0.3, w_recon=0.1, w_adv=0.05, grl_lambda=1.0, disc_hidden=64,
    w_nce=0.1, nce_tau=0.1,
    mixup_alpha=0.2, p_recombine=0.2, p_modality_dropout=0.2, p_latent=0.1,
    latent_noise=0.1,
    lr=1e-3, weight_decay=0.01, clip=1.0, warmup=100, total=10000, min_lr=1e-5,
)


class Branch(nn.Module):
    pass


# ------------------------------------------------------------ saliency.h

def _gauss_kernel(sigma):
    r = int(math.ceil(3.0 * sigma))
    k = torch.arange(-r, r + 1, dtype=torch.float32)
    w = torch.exp(-k * k / (2.0 * sigma * sigma))
    return w / w.sum(), r


G1, R1 = _gauss_kernel(1.0)
G2, R2 = _gauss_kernel(2.0)


def _blur(img, k, r):
    """(N, C, H, W) separable Gaussian, replicate border, rows then columns"""
    c = img.shape[1]
    x = F.pad(img, (r, r, 0, 0), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.pad(x, (0, 0, r, r), mode="replicate")
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def saliency(x, gh, gw):
    """x: (N, C, H, W) → (N, gh·gw, 36), saliency.h. Needs H and W
    divisible by 2·grid (true for the defaults: no overlapping cells)."""
    n, _, h, w = x.shape
    assert h % (2 * gh) == 0 and w % (2 * gw) == 0
    grey = x.mean(1, keepdim=True)
    p = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    ix = (p[:, :, 1:-1, 2:] - p[:, :, 1:-1, :-2]) * 0.5
    iy = (p[:, :, 2:, 1:-1] - p[:, :, :-2, 1:-1]) * 0.5
    mag = torch.sqrt(ix * ix + iy * iy)
    theta = torch.atan2(iy, ix)
    theta = torch.where(theta < 0, theta + 2 * math.pi, theta)
    t = theta * (8 / (2 * math.pi)) - 0.5
    b0 = torch.floor(t)
    f = t - b0
    b0 = b0.long()
    hist = torch.zeros(n, 8, h, w)
    hist.scatter_add_(1, torch.remainder(b0, 8), mag * (1 - f))
    hist.scatter_add_(1, torch.remainder(b0 + 1, 8), mag * f)
    sh, sw = h // (2 * gh), w // (2 * gw)
    hist = F.avg_pool2d(hist, (sh, sw)) * (sh * sw)          # (N, 8, 2gh, 2gw)
    hist = hist.view(n, 8, gh, 2, gw, 2).permute(0, 2, 4, 3, 5, 1)
    hist = hist.reshape(n, gh * gw, 32)                      # sub-cells row-major
    hist = hist / hist.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    hist = hist.clamp(max=0.2)
    hist = hist / hist.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    dog = (_blur(grey, G1, R1) - _blur(grey, G2, R2)).abs()
    st = _blur(torch.cat([ix * ix, iy * iy, ix * iy], 1), G1, R1)
    a, b, c = st[:, 0:1], st[:, 1:2], st[:, 2:3]
    harris = (a * b - c * c - 0.04 * (a + b) ** 2).clamp(min=0)
    dh = torch.cat([dog, harris], 1)                         # (N, 2, H, W)
    cell = (h // gh, w // gw)
    mean = F.avg_pool2d(dh, cell).flatten(2).transpose(1, 2)
    mx = F.max_pool2d(dh, cell).flatten(2).transpose(1, 2)
    extra = torch.stack([mean[..., 0], mx[..., 0], mean[..., 1], mx[..., 1]], -1)
    return torch.cat([hist, torch.log1p(extra)], -1)


# ------------------------------------------------------- encoder-image.h

class ImageEncoder(nn.Module):
    def __init__(self, c, gh, gw, d, a, lat, m, m2, m3, s, **_):
        super().__init__()
        self.grid = (gh, gw)
        # declaration order = the C encoder's
        self.ae = Branch()
        self.ae.enc1 = nn.Conv2d(c, a, 3, 2, 1)
        self.ae.enc2 = nn.Conv2d(a, 2 * a, 3, 2, 1)
        self.ae.enc3 = nn.Conv2d(2 * a, lat, 3, 2, 1)
        self.ae.dec1 = nn.ConvTranspose2d(lat, 2 * a, 4, 2, 1)
        self.ae.dec2 = nn.ConvTranspose2d(2 * a, c, 4, 2, 1)
        self.ms = Branch()
        self.ms.k3 = nn.Conv2d(c, m, 3, 1, 1)
        self.ms.k5 = nn.Conv2d(c, m, 5, 1, 2)
        self.ms.k7 = nn.Conv2d(c, m, 7, 1, 3)
        self.ms.conv1 = nn.Conv2d(3 * m, m2, 3, 1, 1)
        self.ms.conv2 = nn.Conv2d(m2, m3, 3, 1, 1)
        self.sal = Branch()
        self.sal.proj = nn.Linear(36, s)
        self.proj = nn.Linear(lat + m3 + s, d)
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.pos = nn.Parameter(torch.randn(gh * gw, d) * 0.02)

    def to_tokens(self, fmap):
        return F.adaptive_avg_pool2d(fmap, self.grid).flatten(2).transpose(1, 2)

    def encode(self, x):
        ae = self.ae
        return ae.enc3(F.relu(ae.enc2(F.relu(ae.enc1(x)))))

    def decode(self, latent):
        return self.ae.dec2(F.relu(self.ae.dec1(latent)))

    def forward(self, x, train):
        """x (n, C, H, W) → tokens (n, K, D), recon_loss (train) or None"""
        ms = self.ms
        latent = self.encode(x)
        recon_loss = None
        if train:
            recon = self.decode(latent)
            target = F.adaptive_avg_pool2d(x, recon.shape[-2:])
            recon_loss = F.mse_loss(recon, target)
        h = F.relu(torch.cat([ms.k3(x), ms.k5(x), ms.k7(x)], 1))
        h = F.max_pool2d(h, 2, 2)
        h = F.max_pool2d(F.relu(ms.conv1(h)), 2, 2)
        h = F.relu(ms.conv2(h))
        s = F.relu(self.sal.proj(saliency(x, *self.grid)))
        feat = torch.cat([self.to_tokens(latent), self.to_tokens(h), s], -1)
        return self.norm(self.proj(feat)) + self.pos, recon_loss


# -------------------------------------------------------- encoder-text.h

class TextEncoder(nn.Module):
    def __init__(self, buckets, L, M, E, d, A, m, m2, s):
        super().__init__()
        self.L = L
        self.emb = nn.Embedding(buckets, E)      # dense gradient, like ours
        self.ae = Branch()
        self.ae.enc = nn.Conv1d(E, A, 3, 1, 1)
        self.ae.dec = nn.Conv1d(A, E, 3, 1, 1)
        self.ms = Branch()
        self.ms.k3 = nn.Conv1d(E, m, 3, 1, 1)
        self.ms.k5 = nn.Conv1d(E, m, 5, 1, 2)
        self.ms.k7 = nn.Conv1d(E, m, 7, 1, 3)
        self.ms.conv1 = nn.Conv1d(3 * m, m2, 3, 1, 1)
        self.sal = Branch()
        self.sal.proj = nn.Linear(4, s)
        self.proj = nn.Linear(A + m2 + s, d)
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.pos = nn.Parameter(torch.randn(L, d) * 0.02)

    def forward(self, ids, train):
        """ids (n, L, M) int64, −1 padding → tokens (n, L, D), mask (n, L),
        recon_loss (train) or None"""
        n, L, M = ids.shape
        valid = ids >= 0
        mask = valid[:, :, 0].float()                            # (n, L)
        cnt = valid.sum(2, keepdim=True).clamp(min=1)
        psw = (valid / cnt).reshape(-1, M)
        emb = F.embedding_bag(ids.clamp(min=0).reshape(-1, M), self.emb.weight,
                              per_sample_weights=psw, mode="sum")
        x = emb.view(n, L, -1).transpose(1, 2)                   # (n, E, L)
        mk = mask[:, None, :]
        feats = []
        # AE: the embeddings are data for the reconstruction (encoder-text.h)
        xd = x.detach()
        latent = F.relu(self.ae.enc(xd) * mk)
        recon_loss = None
        if train:
            recon = self.ae.dec(latent) * mk
            nreal = mask.sum()
            recon_loss = ((recon - xd) ** 2 * mk).sum() / (x.shape[1] * nreal) \
                if nreal > 0 else recon.sum() * 0
        feats.append(latent)
        ms = self.ms
        h = F.relu(torch.cat([ms.k3(x) * mk, ms.k5(x) * mk, ms.k7(x) * mk], 1))
        h = F.relu(ms.conv1(h) * mk)
        feats.append(h)
        # SAL: four fixed features per word
        t = torch.arange(L, dtype=torch.float32)[None, :]
        nreal = mask.sum(1, keepdim=True)
        tlast = (mask * t).amax(1, keepdim=True)
        f0 = t / (L - 1) if L > 1 else torch.zeros_like(t)
        f1 = (t == tlast).float()
        f2 = valid.sum(2).float() / M
        f3 = 1 - t / nreal.clamp(min=1)
        sal = torch.stack([f0.expand(n, L), f1, f2, f3], -1) * mask[..., None]
        s = F.relu(self.sal.proj(sal))
        feat = torch.cat([feats[0].transpose(1, 2), feats[1].transpose(1, 2), s], -1)
        tokens = (self.norm(self.proj(feat)) + self.pos) * mask[..., None]
        return tokens, mask, recon_loss


# -------------------------------------------------------------- fusion.h

class Fusion(nn.Module):
    def __init__(self, d, tokens, h, tau):
        super().__init__()
        self.tau = tau
        self.match = nn.ModuleDict({p: nn.Linear(4 * d, d) for p in PAIR_NAMES})
        self.attn = nn.Linear(d, h)
        self.attn_v = nn.Parameter(torch.empty(h).uniform_(-1 / math.sqrt(h),
                                                           1 / math.sqrt(h)))

    def forward(self, X, masks, presence):
        """X[m] (N, K_m, D) (zeros where missing/padded), masks[m] (N, K_m),
        presence (N, 3) → fused (N, D), omega (N, 3), summaries (N, 3, D)"""
        n = presence.shape[0]
        mk = [masks[m] * presence[:, m:m + 1] for m in range(3)]
        summ = [(X[m] * mk[m][..., None]).sum(1) /
                mk[m].sum(1, keepdim=True).clamp(min=1) for m in range(3)]
        cand = list(summ)
        cand_on = [presence[:, m] > 0 for m in range(3)]
        for p, (a, b) in enumerate(PAIRS):
            x, y = X[a], X[b]
            ra, rb = mk[a] > 0, mk[b] > 0                       # (N, K)
            s = F.normalize(x, dim=-1, eps=1e-8) @ \
                F.normalize(y, dim=-1, eps=1e-8).transpose(1, 2)
            sd = s.detach()
            jx = sd.masked_fill(~rb[:, None, :], -math.inf).argmax(2)   # (N, Ka)
            iy = sd.masked_fill(~ra[:, :, None], -math.inf).argmax(1)   # (N, Kb)
            ka, kb = x.shape[1], y.shape[1]
            li = torch.cat([torch.arange(ka).expand(n, ka), iy], 1)
            lj = torch.cat([jx, torch.arange(kb).expand(n, kb)], 1)
            ok = torch.cat([ra, rb], 1)
            xp = x.gather(1, li[..., None].expand(-1, -1, x.shape[2]))
            yp = y.gather(1, lj[..., None].expand(-1, -1, y.shape[2]))
            u = torch.cat([xp, yp, xp * yp, (xp - yp).abs()], -1)
            g = torch.sigmoid(self.match[PAIR_NAMES[p]](u))
            f = g * xp + (1 - g) * yp
            logit = s[torch.arange(n)[:, None], li, lj]
            logit = (logit / self.tau).masked_fill(~ok, -1e30)
            on = cand_on[a] & cand_on[b]
            w = torch.softmax(logit, 1) * on[:, None]
            cand.append((w[..., None] * f).sum(1))
            cand_on.append(on)
        c = torch.stack(cand, 1)                                  # (N, 6, D)
        on = torch.stack(cand_on, 1)                              # (N, 6)
        e = torch.tanh(self.attn(c)) @ self.attn_v
        alpha = torch.softmax(e.masked_fill(~on, -math.inf), 1)
        fused = (alpha[..., None] * c).sum(1)
        om = alpha[:, :3] + 0.5 * torch.stack(
            [alpha[:, 3] + alpha[:, 4], alpha[:, 3] + alpha[:, 5],
             alpha[:, 4] + alpha[:, 5]], 1)
        return fused, om, torch.stack(summ, 1)


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


def info_nce(a, b, tau):
    logits = F.normalize(a, dim=-1, eps=1e-8) @ F.normalize(b, dim=-1, eps=1e-8).t() / tau
    tgt = torch.arange(a.shape[0])
    return 0.5 * (F.cross_entropy(logits, tgt) + F.cross_entropy(logits.t(), tgt))


def ce(logits, labels):
    """F.cross_entropy, ignore −1, 0 (not NaN) when nothing counts"""
    if (labels >= 0).any():
        return F.cross_entropy(logits, labels, ignore_index=-1)
    return logits.sum() * 0


# ------------------------------------------------------------------ model

class Model(nn.Module):
    def __init__(self, cfg=CFG):
        super().__init__()
        self.cfg = cfg
        im = cfg["img"]
        # declaration order = model.c's: video, audio, text, fusion, heads, aux, disc
        self.video = ImageEncoder(**cfg["video"], **im)
        self.audio = ImageEncoder(**cfg["audio"], **im)
        self.text = TextEncoder(**cfg["text"])
        self.fusion = Fusion(**cfg["fusion"])
        d = cfg["fusion"]["d"]
        self.head = nn.ModuleDict({t: nn.Linear(d, c) for t, c, _ in cfg["tasks"]})
        c0 = cfg["tasks"][0][1]
        self.aux = nn.ModuleDict({m: nn.Linear(d, c0) for m in MODS})
        self.disc = Branch()
        self.disc.fc1 = nn.Linear(d, cfg["disc_hidden"])
        self.disc.fc2 = nn.Linear(cfg["disc_hidden"], 3)

    def encoders(self):
        return (self.video, self.audio, self.text)

    # ------------------------------------------------------ virtual data
    def augment(self, b):
        cfg = self.cfg
        b = dict(b)
        x = [b["video"].clone(), b["audio"].clone(), b["ids"].clone()]
        pres = b["presence"].clone()
        lab = b["labels"]
        n = pres.shape[0]
        # within-class recombination, from the unmodified snapshot
        snap = [b["video"], b["audio"], b["ids"]]
        l0 = lab[:, 0].tolist()
        pl = pres.tolist()
        r = torch.rand(n).tolist()
        for i in range(n):
            if r[i] >= cfg["p_recombine"] or l0[i] < 0:
                continue
            ms = [m for m in range(3) if pl[i][m] > 0]
            m = ms[int(torch.randint(len(ms), ()))]
            js = [j for j in range(n) if j != i and l0[j] == l0[i] and pl[j][m] > 0]
            if js:
                j = js[int(torch.randint(len(js), ()))]
                x[m][i] = snap[m][j]
        # latent perturbation through the AE (no gradient)
        with torch.no_grad():
            for m in (0, 1):
                sel = ((pres[:, m] > 0) & (torch.rand(n) < cfg["p_latent"])).nonzero().flatten()
                if len(sel) == 0:
                    continue
                enc = self.encoders()[m]
                lat = enc.encode(x[m][sel])
                # per-sample (population) std of the latent, as augment.c
                std = lat.flatten(1).std(1, unbiased=False).view(-1, 1, 1, 1)
                lat = lat + torch.randn_like(lat) * (cfg["latent_noise"] * std)
                rec = F.interpolate(enc.decode(lat), size=x[m].shape[-2:],
                                    mode="bilinear", align_corners=False)
                x[m][sel] = rec
        # mixup, one λ per batch
        g = torch.distributions.Gamma(cfg["mixup_alpha"], 1.0)
        ga, gb = float(g.sample()), float(g.sample())
        lam = ga / (ga + gb) if ga + gb > 0 else 1.0
        lam = max(lam, 1 - lam)
        perm = torch.randperm(n)
        for m in (0, 1):
            both = ((pres[:, m] > 0) & (pres[perm, m] > 0)).float().view(-1, 1, 1, 1)
            mixed = lam * x[m] + (1 - lam) * x[m][perm]
            x[m] = both * mixed + (1 - both) * x[m]
        labels_b = lab[perm]
        # modality dropout, never the last present one
        drop = (torch.rand(n, 3) < cfg["p_modality_dropout"]) & (pres > 0)
        for i in (drop.sum(1) >= (pres > 0).sum(1)).nonzero().flatten().tolist():
            keep = [m for m in range(3) if drop[i, m]]
            drop[i, keep[int(torch.randint(len(keep), ()))]] = False
        pres = pres * (~drop).float()
        b.update(video=x[0], audio=x[1], ids=x[2], presence=pres,
                 labels_b=labels_b, mix=lam)
        return b

    # ----------------------------------------------------------- forward
    def forward(self, b, train):
        cfg = self.cfg
        if train:
            b = self.augment(b)
        pres = b["presence"]
        n = pres.shape[0]
        D = cfg["fusion"]["d"]
        K = cfg["fusion"]["tokens"]
        X, masks, recon = [], [], []
        for m, enc in enumerate(self.encoders()):
            idx = (pres[:, m] > 0).nonzero().flatten()
            inp = b[("video", "audio", "ids")[m]]
            full = len(idx) == n
            sub = inp if full else inp.index_select(0, idx)
            if m < 2:
                tok, rl = enc(sub, train)
                mk = torch.ones(tok.shape[:2])
            else:
                tok, mk, rl = enc(sub, train)
            if not full:   # scatter into (N, K, D), zeros where missing
                tok = torch.zeros(n, K[m], D).index_copy(0, idx, tok)
                mk = torch.zeros(n, K[m]).index_copy(0, idx, mk)
            X.append(tok)
            masks.append(mk)
            if rl is not None and len(idx) > 0:
                recon.append(rl)
        fused, omega, summ = self.fusion(X, masks, pres)
        out = {"omega": omega}
        total = 0
        for (t, c, w), ti in zip(cfg["tasks"], range(len(cfg["tasks"]))):
            logits = self.head[t](fused)
            out["probs." + t] = torch.softmax(logits, 1)
            lt = b["labels"][:, ti]
            if train and b.get("labels_b") is not None:
                lam = b["mix"]
                loss = lam * ce(logits, lt) + (1 - lam) * ce(logits, b["labels_b"][:, ti])
            else:
                loss = ce(logits, lt)
            total = total + w * loss
        if not train:
            out["total"] = total
            return out
        l0 = b["labels"][:, 0]
        # auxiliary heads on the summaries
        aux = []
        for m in range(3):
            idx = (pres[:, m] > 0).nonzero().flatten()
            if len(idx):   # task-0 labels, mixed like the task heads
                logits = self.aux[MODS[m]](summ[idx, m])
                lam = b["mix"]
                aux.append(lam * ce(logits, l0[idx]) +
                           (1 - lam) * ce(logits, b["labels_b"][idx, 0]))
        aux = sum(aux) / len(aux)
        rec = sum(recon)
        # modality discriminator on every real token, through the GRL
        toks, tgt = [], []
        for m in range(3):
            sel = (masks[m] * pres[:, m:m + 1]) > 0
            toks.append(X[m][sel])
            tgt.append(torch.full((toks[-1].shape[0],), m, dtype=torch.long))
        h = GradReverse.apply(torch.cat(toks), cfg["grl_lambda"])
        adv = F.cross_entropy(self.disc.fc2(F.relu(self.disc.fc1(h))), torch.cat(tgt))
        # InfoNCE between summaries of every pair
        nce = []
        for a, c in PAIRS:
            idx = ((pres[:, a] > 0) & (pres[:, c] > 0)).nonzero().flatten()
            if len(idx) >= 2:
                nce.append(info_nce(summ[idx, a], summ[idx, c], cfg["nce_tau"]))
        nce = sum(nce) / len(nce) if nce else 0
        out["total"] = (total + cfg["w_aux"] * aux + cfg["w_recon"] * rec +
                        cfg["w_adv"] * adv + cfg["w_nce"] * nce)
        return out


def param_groups(model):
    decay, no = [], []
    for name, p in model.named_parameters():
        # weights of linear/conv/embedding decay; biases, norms, pos don't;
        # attn_v is a weight vector (fusion.h): it decays
        if (name.endswith(".weight") and ".norm." not in name) or name.endswith("attn_v"):
            decay.append(p)
        else:
            no.append(p)
    return decay, no


def lr_at(step, cfg=CFG):
    """linear warm-up then cosine to min_lr (optim.h), 0-based step"""
    if step < cfg["warmup"]:
        return cfg["lr"] * (step + 1) / cfg["warmup"]
    t = min(1.0, (step - cfg["warmup"]) / max(1, cfg["total"] - cfg["warmup"]))
    return cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * (1 + math.cos(math.pi * t))


class Trainer:
    def __init__(self, model, foreach=True):
        self.model = model
        decay, no = param_groups(model)
        wd = model.cfg["weight_decay"]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                                      {"params": no, "weight_decay": 0.0}],
                                     lr=model.cfg["lr"], betas=(0.9, 0.999),
                                     eps=1e-8, foreach=foreach)
        self.params = decay + no
        self.step_n = 0

    def step(self, b):
        self.opt.zero_grad(set_to_none=False)
        out = self.model(b, True)
        out["total"].backward()
        norm = torch.nn.utils.clip_grad_norm_(self.params, self.model.cfg["clip"])
        if torch.isfinite(norm):
            for g in self.opt.param_groups:
                g["lr"] = lr_at(self.step_n)
            self.opt.step()
            self.step_n += 1
        return float(out["total"])


# ------------------------------------------------------------------- data

def words_of(i):
    """real words of sample i: 4..32, the formula bench-model.c uses"""
    return 4 + (i * 7 + 12) % 29


def ids_per_word(i, t):
    return 3 + (i + t) % 14


def make_batch(n, gen, cfg=CFG):
    v, a, t = cfg["video"], cfg["audio"], cfg["text"]
    ids = torch.full((n, t["L"], t["M"]), -1, dtype=torch.long)
    for i in range(n):
        for w in range(words_of(i)):
            k = ids_per_word(i, w)
            ids[i, w, :k] = torch.randint(t["buckets"], (k,), generator=gen)
    return dict(
        video=torch.rand((n, v["c"], v["h"], v["w"]), generator=gen) * 4 - 2,
        audio=torch.rand((n, a["c"], a["h"], a["w"]), generator=gen) * 4 - 2,
        ids=ids,
        presence=torch.ones(n, 3),
        labels=torch.stack([torch.randint(c, (n,), generator=gen)
                            for _, c, _ in cfg["tasks"]], 1),
        labels_b=None, mix=1.0)


def openblas_core():
    for lib in ("libopenblas.so.0", "libblas.so.3"):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            return f().decode()
        except (OSError, AttributeError):
            continue
    return "?"


def timed(fn, min_time, min_iters, clock=time.perf_counter):
    """Median and best step; clock=time.process_time (--cpu-time) counts the
    process's CPU time, as bench-model --cpu-time does."""
    ts = []
    start = time.perf_counter()
    while len(ts) < min_iters or time.perf_counter() - start < min_time:
        t0 = clock()
        fn()
        ts.append(clock() - t0)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=3.0)
    ap.add_argument("--cpu-time", action="store_true",
                    help="time each step by the process's CPU clock")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--params", action="store_true")
    ap.add_argument("--no-foreach", action="store_true")
    ap.add_argument("--what", default="train,infer")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Model()
    if args.params:
        decay = set(id(p) for p in param_groups(model)[0])
        for name, p in model.named_parameters():
            print(name, "x".join(str(s) for s in p.shape), int(id(p) in decay))
        return 0
    gen = torch.Generator().manual_seed(2)
    n_params = sum(p.numel() for p in model.parameters())
    print("torch info version=%s threads=%d openblas_core=%s OPENBLAS_CORETYPE=%s "
          "OPENBLAS_NUM_THREADS=%s params=%d" %
          (torch.__version__, torch.get_num_threads(), openblas_core(),
           os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
           os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"), n_params))
    what = args.what.split(",")
    if "train" in what:
        b = make_batch(args.batch, gen)
        tr = Trainer(model, foreach=not args.no_foreach)
        for _ in range(3):
            tr.step(b)
        clock = time.process_time if args.cpu_time else time.perf_counter
        med, best = timed(lambda: tr.step(b), args.min_time, 5, clock)
        print("torch train threads=%d %.2f samples/s (median step %.1f ms, best %.1f ms)"
              % (args.threads, args.batch / med, med * 1e3, best * 1e3))
    if "infer" in what:
        b1 = make_batch(1, gen)
        model.eval()
        with torch.inference_mode():
            for _ in range(5):
                model(b1, False)
            med, best = timed(lambda: model(b1, False), args.min_time, 20,
                              time.process_time if args.cpu_time
                              else time.perf_counter)
        print("torch infer threads=%d %.3f ms (best %.3f ms)"
              % (args.threads, med * 1e3, best * 1e3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
