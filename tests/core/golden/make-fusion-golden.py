#!/usr/bin/python3
# Generates fusion-*.bin: the information-fusion module of
# mmdnn-core/include/mmdnn/fusion.h written in PyTorch straight from the
# spec (per sample, over the real tokens only), for tests/core/test-fusion.c.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   /usr/bin/python3 tests/core/golden/make-fusion-golden.py           # write
#   /usr/bin/python3 tests/core/golden/make-fusion-golden.py --check   # compare
#
# File format: "MMDG" as written by mmdg.py. Tensors per case:
#   config          int32 (6): D K_video K_audio K_text H N
#   tau             float32 scalar (0-d)
#   fusion.<name>   every parameter (float32 draws, U(±1/√fan_in))
#   video, audio, text        (N, K_m, D) tokens; a missing modality's tokens
#                             are NaN (they must never be read), padded ones
#                             are large random values
#   mask.video, mask.audio, mask.text   (N, K_m) 0/1
#   presence        (N, 3) 0/1
#   fused (N, D), omega (N, 3), alpha (N, 6), summaries (N, 3, D)
#   dfused          (N, D) upstream gradient: loss = sum(fused * dfused)
#   d.video, d.audio, d.text  token gradients; dfusion.<name> parameter ones
# The reference runs in float64 from the float32 values; the argmax choices
# are made on the float64 similarities and the script asserts that every
# argmax wins by a margin (so float32 in C picks the same tokens).

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "fusion"
MODS = ("video", "audio", "text")
PAIRS = ((0, 1), (0, 2), (1, 2))
PAIR_NAMES = ("video_audio", "video_text", "audio_text")

sys.path.insert(0, HERE)
import mmdg  # noqa: E402

F64 = torch.float64


def uniform(gen, shape, bound):
    t = torch.rand(shape, generator=gen, dtype=torch.float32)
    return ((t * 2 - 1) * bound).to(F64)


def fusion(params, tokens, masks, presence, tau):
    """fused (N, D), omega (N, 3), alpha (N, 6), summaries (N, 3, D) and the
    smallest argmax margin."""
    n, d = tokens[0].shape[0], tokens[0].shape[2]
    wa, ba, v = (params[PREFIX + ".attn.weight"], params[PREFIX + ".attn.bias"],
                 params[PREFIX + ".attn_v"])
    fused, omegas, alphas, summs = [], [], [], []
    margin = math.inf
    for i in range(n):
        on = [bool(presence[i, m]) for m in range(3)]
        real = [torch.nonzero(masks[m][i]).flatten() if on[m] else None
                for m in range(3)]
        xs = [tokens[m][i].index_select(0, real[m]) if on[m] else None
              for m in range(3)]
        cand, cand_on = [], []
        for m in range(3):
            cand.append(xs[m].mean(0) if on[m] else torch.zeros(d, dtype=F64))
            cand_on.append(on[m])
        summs.append(torch.stack(cand))
        for p, (a, b) in enumerate(PAIRS):
            if not (on[a] and on[b]):
                cand.append(torch.zeros(d, dtype=F64))
                cand_on.append(False)
                continue
            x, y = xs[a], xs[b]
            s = F.normalize(x, dim=-1, eps=1e-8) @ F.normalize(y, dim=-1, eps=1e-8).t()
            sd = s.detach()
            # torch.argmax returns the first maximal index: ties → lowest
            jx = torch.argmax(sd, dim=1)
            iy = torch.argmax(sd, dim=0)
            for row in (sd, sd.t()):
                if row.shape[1] > 1:
                    top = torch.topk(row, 2, dim=1).values
                    margin = min(margin, float((top[:, 0] - top[:, 1]).min()))
            li = torch.cat([torch.arange(x.shape[0]), iy])
            lj = torch.cat([jx, torch.arange(y.shape[0])])
            xp, yp = x[li], y[lj]
            margin = min(margin, float((xp - yp).abs().min()))
            u = torch.cat([xp, yp, xp * yp, (xp - yp).abs()], dim=1)
            g = torch.sigmoid(F.linear(u, params["%s.match.%s.weight" % (PREFIX, PAIR_NAMES[p])],
                                       params["%s.match.%s.bias" % (PREFIX, PAIR_NAMES[p])]))
            f = g * xp + (1 - g) * yp
            w = torch.softmax(s[li, lj] / tau, dim=0)
            cand.append((w[:, None] * f).sum(0))
            cand_on.append(True)
        c = torch.stack(cand)
        e = torch.tanh(F.linear(c, wa, ba)) @ v
        idx = torch.tensor([k for k in range(6) if cand_on[k]])
        alpha = torch.zeros(6, dtype=F64).index_put((idx,), torch.softmax(e[idx], dim=0))
        fused.append(alpha @ c)
        om = [alpha[m] for m in range(3)]
        for p, (a, b) in enumerate(PAIRS):
            om[a] = om[a] + 0.5 * alpha[3 + p]
            om[b] = om[b] + 0.5 * alpha[3 + p]
        omegas.append(torch.stack(om))
        alphas.append(alpha)
    return (torch.stack(fused), torch.stack(omegas), torch.stack(alphas),
            torch.stack(summs), margin)


def build(seed, d, ks, h, tau, real):
    n = len(real)
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for p in PAIR_NAMES:
        bound = 1 / math.sqrt(4 * d)
        params["%s.match.%s.weight" % (PREFIX, p)] = uniform(gen, (d, 4 * d), bound)
        params["%s.match.%s.bias" % (PREFIX, p)] = uniform(gen, (d,), bound)
    params[PREFIX + ".attn.weight"] = uniform(gen, (h, d), 1 / math.sqrt(d))
    params[PREFIX + ".attn.bias"] = uniform(gen, (h,), 1 / math.sqrt(d))
    params[PREFIX + ".attn_v"] = uniform(gen, (h,), 1 / math.sqrt(h))
    for t in params.values():
        t.requires_grad_(True)

    presence = torch.tensor([[1.0 if r[m] > 0 else 0.0 for m in range(3)]
                             for r in real], dtype=torch.float32)
    tokens, masks = [], []
    for m in range(3):
        x = uniform(gen, (n, ks[m], d), 1.0)
        mask = torch.zeros((n, ks[m]), dtype=torch.float32)
        for i in range(n):
            # real tokens at random positions
            pos = torch.randperm(ks[m], generator=gen)[:max(real[i][m], 0)]
            mask[i, pos] = 1.0
            pad = mask[i] == 0
            x[i, pad] = uniform(gen, (int(pad.sum()), d), 100.0)
            if real[i][m] == 0:
                x[i] = math.nan
        tokens.append(x.requires_grad_(True))
        masks.append(mask)
    dfused = uniform(gen, (n, d), 1.0)

    fused, omega, alpha, summ, margin = fusion(params, tokens, masks,
                                               presence, tau)
    assert margin > 1e-3, "argmax or |x - y| margin %g: pick another seed" % margin
    (fused * dfused).sum().backward()

    out = [("config", mmdg.I32, np.array([d, ks[0], ks[1], ks[2], h, n])),
           ("tau", mmdg.F32, np.array(tau, dtype=np.float32))]
    for name, t in params.items():
        out.append((name, mmdg.F32, t.detach().numpy()))
    for m in range(3):
        out.append((MODS[m], mmdg.F32, tokens[m].detach().numpy()))
        out.append(("mask." + MODS[m], mmdg.F32, masks[m].numpy()))
    out += [("presence", mmdg.F32, presence.numpy()),
            ("fused", mmdg.F32, fused.detach().numpy()),
            ("omega", mmdg.F32, omega.detach().numpy()),
            ("alpha", mmdg.F32, alpha.detach().numpy()),
            ("summaries", mmdg.F32, summ.detach().numpy()),
            ("dfused", mmdg.F32, dfused.numpy())]
    for m in range(3):
        g = tokens[m].grad
        g = torch.zeros_like(tokens[m]) if g is None else torch.nan_to_num(g, nan=0.0)
        out.append(("d." + MODS[m], mmdg.F32, g.numpy()))
    for name, t in params.items():
        out.append(("d" + name, mmdg.F32, t.grad.numpy()))
    return out


CASES = {
    # D 6, K {4, 3, 5}, H 5, the default τ; padding everywhere, audio missing
    # in sample 1, only text in sample 2
    "fusion-mixed": (1, 6, (4, 3, 5), 5, 0.1, ((3, 2, 4), (4, 0, 2), (0, 0, 5))),
    # D 8, K {5, 4, 6}, H 3, τ 0.5; all present, one single-token modality
    "fusion-full": (2, 8, (5, 4, 6), 3, 0.5, ((5, 4, 6), (2, 1, 3))),
}


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(mmdg.main(CASES, lambda name, spec: build(*spec),
                       description=__doc__))
