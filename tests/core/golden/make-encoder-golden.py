#!/usr/bin/python3
# Generates encoder-image-*.bin: the image encoder of
# mmdnn-core/include/mmdnn/encoder-image.h built in PyTorch from nn layers,
# with the same parameter names and layouts, for tests/core/test-encoder-image.c.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   /usr/bin/python3 tests/core/golden/make-encoder-golden.py           # write
#   /usr/bin/python3 tests/core/golden/make-encoder-golden.py --check   # compare
#
# File format: "MMDG" as written by mmdg.py. Tensors per case:
#   config      float32 (13): C H W grid_h grid_w D a L m m2 m3 s N
#   img.<name>  every parameter (PyTorch's default init, rounded to float32)
#   x           (N, C, H, W) float32 input
#   tokens      (N, K, D)     latent (N, L, Hl, Wl)     recon_loss (1)
#   dtokens     (N, K, D) upstream gradient, drecon (1) its recon-loss weight:
#               the backward loss is sum(tokens * dtokens) + drecon * recon_loss
#   dimg.<name> every parameter gradient
# The reference runs in float64 from the float32 values. The saliency
# descriptors (fixed, no gradient) come from the independent NumPy
# implementation in make-saliency-golden.py, not from the C code.

import importlib.util
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "img"

sys.path.insert(0, HERE)
import mmdg  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "saliency_ref", os.path.join(HERE, "make-saliency-golden.py"))
saliency_ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(saliency_ref)


class Branch(nn.Module):
    pass


class ImageEncoder(nn.Module):
    def __init__(self, c, gh, gw, d, a, lat, m, m2, m3, s):
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
        """(N, C, H, W) → adaptive pool to the grid → (N, K, C)"""
        return F.adaptive_avg_pool2d(fmap, self.grid).flatten(2).transpose(1, 2)

    def forward(self, x, desc):
        ae, ms = self.ae, self.ms
        h = F.relu(ae.enc1(x))
        h = F.relu(ae.enc2(h))
        latent = ae.enc3(h)
        recon = ae.dec2(F.relu(ae.dec1(latent)))
        target = F.adaptive_avg_pool2d(x, recon.shape[-2:])
        recon_loss = F.mse_loss(recon, target)

        h = F.relu(torch.cat([ms.k3(x), ms.k5(x), ms.k7(x)], 1))
        h = F.max_pool2d(h, 2, 2)
        h = F.max_pool2d(F.relu(ms.conv1(h)), 2, 2)
        h = F.relu(ms.conv2(h))

        s = F.relu(self.sal.proj(desc))
        feat = torch.cat([self.to_tokens(latent), self.to_tokens(h), s], -1)
        tokens = self.norm(self.proj(feat)) + self.pos
        return tokens, latent, recon_loss


def build(seed, n, c, h, w, gh, gw, d, a, lat, m, m2, m3, s):
    torch.manual_seed(seed)
    model = ImageEncoder(c, gh, gw, d, a, lat, m, m2, m3, s)
    model = model.double()      # float32 init, exactly widened
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.rand((n, c, h, w), generator=gen, dtype=torch.float32)
    dtokens = torch.rand((n, gh * gw, d), generator=gen,
                         dtype=torch.float32) * 2 - 1
    drecon = torch.tensor(0.75, dtype=torch.float32)
    desc = np.stack([saliency_ref.saliency(x[i].double().numpy(), gh, gw)
                     for i in range(n)])

    tokens, latent, recon_loss = model(x.double(), torch.from_numpy(desc))
    ((tokens * dtokens.double()).sum() + drecon.double() * recon_loss).backward()

    out = [("config", np.array([c, h, w, gh, gw, d, a, lat, m, m2, m3, s, n],
                               dtype=np.float64))]
    for name, p in model.named_parameters():
        out.append(("%s.%s" % (PREFIX, name), p.detach().numpy()))
    out += [("x", x.numpy()), ("tokens", tokens.detach().numpy()),
            ("latent", latent.detach().numpy()),
            # the two scalars are stored as shape (1), not 0-d
            ("recon_loss", recon_loss.detach().numpy().reshape(1)),
            ("dtokens", dtokens.numpy()), ("drecon", drecon.numpy().reshape(1))]
    for name, p in model.named_parameters():
        out.append(("d%s.%s" % (PREFIX, name), p.grad.numpy()))
    return [(nm, mmdg.F32, arr) for nm, arr in out]


CASES = {
    # the spec's tiny config: 3×16×16, grid 2×2, D 8, widths 4
    "encoder-image-square": (1, 2, 3, 16, 16, 2, 2, 8, 4, 4, 4, 4, 4, 4),
    # odd everything: grey 24×40 (an audio-like patch), grid 2×5, overlapping cells
    "encoder-image-rect": (2, 3, 1, 24, 40, 2, 5, 6, 3, 5, 3, 5, 4, 6),
}


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(mmdg.main(CASES, lambda name, spec: build(*spec),
                       description=__doc__))
