#!/usr/bin/python3
# Generates the PyTorch golden files that tests/core/test-golden.c holds the
# mmdnn core kernels to.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with Debian's python (torch 1.13 + numpy, `apt-get install python3-torch`
# or `tools/install-deps.sh --torch`):
#
#   /usr/bin/python3 tests/core/golden/make-golden.py            # (re)write *.bin
#   /usr/bin/python3 tests/core/golden/make-golden.py --check    # compare only
#
# The output is deterministic: fixed seeds per case, one CPU thread, and the
# layer references are computed in float64 from float32 inputs (so they do
# not depend on PyTorch's float32 summation order) and rounded to float32.
# The optimisers run PyTorch's own float32 implementations.
#
# File format: "MMDG" (written by mmdg.py, documented there and in README.md).
#
# Naming inside a case: inputs and weights as in the kernel signature ("x",
# "w", "b"), the forward output ("y"), the upstream gradient ("dy", or "dloss"
# for a scalar loss: the loss for the backward pass is sum(out * dy)), and
# one "d<input>" per gradient. Hyper-parameters are stored as scalars so the
# C test has one source of truth.

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmdg  # noqa: E402
from mmdg import F32 as DT_F32, I32 as DT_I32  # noqa: E402

F64 = torch.float64


class Case:
    def __init__(self, seed):
        self.gen = torch.Generator().manual_seed(seed)
        self.tensors = []

    # inputs: float32 draws, returned as float64 leaves for the reference
    def uniform(self, shape, lo=-1.0, hi=1.0):
        t = torch.rand(shape, generator=self.gen, dtype=torch.float32)
        return (t * (hi - lo) + lo).to(F64)

    def randint(self, shape, lo, hi):
        return torch.randint(lo, hi, shape, generator=self.gen, dtype=torch.int64)

    def leaf(self, t):
        return t.clone().requires_grad_(True)

    def add(self, name, t, dtype=DT_F32):
        if isinstance(t, torch.Tensor):
            t = t.detach().cpu().numpy()
        # a copy: an optimiser case steps its tensors in place after adding
        self.tensors.append((name, dtype, np.array(t, copy=True)))

    def scalar_f(self, name, v):
        self.add(name, np.array(v, dtype=np.float64))

    def scalar_i(self, name, v):
        self.add(name, np.array(v, dtype=np.int64), DT_I32)


def backward(c, out, name="dy", lo=-1.0, hi=1.0):
    """sum(out * r) with a fixed random r; stores r under @name."""
    r = c.uniform(tuple(out.shape), lo, hi)
    c.add(name, r)
    (out * r).sum().backward()


def backward_scalar(c, loss):
    dloss = c.uniform((), 0.5, 1.5)
    c.add("dloss", dloss)
    (loss * dloss).backward()


# ---------------------------------------------------------------- layers

def case_linear(c, bias=True):
    n, i, o = 3, 5, 4
    x = c.leaf(c.uniform((n, i)))
    w = c.leaf(c.uniform((o, i), -0.5, 0.5))
    b = c.leaf(c.uniform((o,), -0.5, 0.5)) if bias else None
    y = F.linear(x, w, b)
    backward(c, y)
    c.add("x", x); c.add("w", w)
    if bias:
        c.add("b", b)
    c.add("y", y); c.add("dx", x.grad); c.add("dw", w.grad)
    if bias:
        c.add("db", b.grad)


def conv2d_case(c, n, cin, h, w_, cout, kh, kw, sh, sw, ph, pw):
    x = c.leaf(c.uniform((n, cin, h, w_)))
    w = c.leaf(c.uniform((cout, cin, kh, kw), -0.5, 0.5))
    b = c.leaf(c.uniform((cout,), -0.5, 0.5))
    y = F.conv2d(x, w, b, stride=(sh, sw), padding=(ph, pw))
    backward(c, y)
    c.add("geom", np.array([n, cin, h, w_, cout, kh, kw, sh, sw, ph, pw]), DT_I32)
    c.add("x", x); c.add("w", w); c.add("b", b); c.add("y", y)
    c.add("dx", x.grad); c.add("dw", w.grad); c.add("db", b.grad)


def case_conv2d(c):
    conv2d_case(c, 2, 3, 7, 6, 4, 3, 3, 2, 2, 1, 1)


def case_conv2d_rect(c):
    # non-square kernel, stride and padding differ per axis
    conv2d_case(c, 2, 3, 7, 5, 4, 2, 3, 1, 2, 0, 1)


def case_conv_transpose2d(c):
    n, cin, h, w_, cout, kh, kw, s, p, op = 2, 3, 4, 5, 2, 3, 3, 2, 1, 1
    x = c.leaf(c.uniform((n, cin, h, w_)))
    w = c.leaf(c.uniform((cin, cout, kh, kw), -0.5, 0.5))
    b = c.leaf(c.uniform((cout,), -0.5, 0.5))
    y = F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op)
    backward(c, y)
    c.add("geom", np.array([n, cin, h, w_, cout, kh, kw, s, s, p, p, op, op]), DT_I32)
    c.add("x", x); c.add("w", w); c.add("b", b); c.add("y", y)
    c.add("dx", x.grad); c.add("dw", w.grad); c.add("db", b.grad)


def case_conv1d(c):
    n, cin, l, cout, k, s, p = 2, 3, 11, 4, 3, 2, 1
    x = c.leaf(c.uniform((n, cin, l)))
    w = c.leaf(c.uniform((cout, cin, k), -0.5, 0.5))
    b = c.leaf(c.uniform((cout,), -0.5, 0.5))
    y = F.conv1d(x, w, b, stride=s, padding=p)
    backward(c, y)
    c.add("geom", np.array([n, cin, l, cout, k, s, p]), DT_I32)
    c.add("x", x); c.add("w", w); c.add("b", b); c.add("y", y)
    c.add("dx", x.grad); c.add("dw", w.grad); c.add("db", b.grad)


def case_maxpool2d(c):
    n, ch, h, w_, kh, kw, s, p = 2, 3, 7, 7, 3, 3, 2, 1
    x = c.leaf(c.uniform((n, ch, h, w_)))
    y, idx = F.max_pool2d(x, (kh, kw), s, p, return_indices=True)
    backward(c, y)
    c.add("geom", np.array([n, ch, h, w_, kh, kw, s, s, p, p]), DT_I32)
    c.add("x", x); c.add("y", y); c.add("argmax", idx, DT_I32); c.add("dx", x.grad)


def case_avgpool2d(c):
    n, ch, h, w_, kh, kw, sh, sw, ph, pw = 2, 3, 7, 6, 3, 2, 2, 2, 1, 1
    x = c.leaf(c.uniform((n, ch, h, w_)))
    y = F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), count_include_pad=True)
    backward(c, y)
    c.add("geom", np.array([n, ch, h, w_, kh, kw, sh, sw, ph, pw]), DT_I32)
    c.add("x", x); c.add("y", y); c.add("dx", x.grad)


def case_global_avgpool(c):
    n, ch, s = 2, 3, 10
    x = c.leaf(c.uniform((n, ch, s)))
    y = x.mean(dim=-1)
    backward(c, y)
    c.add("x", x); c.add("y", y); c.add("dx", x.grad)


def case_adaptive_avgpool(c):
    # 7 -> 3 and 10 -> 4: overlapping cells of unequal size on both axes
    n, ch, h, w_, oh, ow = 2, 3, 7, 10, 3, 4
    x = c.leaf(c.uniform((n, ch, h, w_)))
    y = F.adaptive_avg_pool2d(x, (oh, ow))
    backward(c, y)
    c.add("geom", np.array([n, ch, h, w_, oh, ow]), DT_I32)
    c.add("x", x); c.add("y", y); c.add("dx", x.grad)


def elementwise_case(c, fn, lo=-3.0, hi=3.0):
    x = c.leaf(c.uniform((3, 7), lo, hi))
    y = fn(x)
    backward(c, y)
    c.add("x", x); c.add("y", y); c.add("dx", x.grad)


def case_relu(c):
    elementwise_case(c, F.relu)


def case_gelu(c):
    elementwise_case(c, F.gelu)   # exact erf form (approximate='none')


def case_sigmoid(c):
    elementwise_case(c, torch.sigmoid, -6.0, 6.0)


def case_tanh(c):
    elementwise_case(c, torch.tanh)


def case_softmax(c):
    elementwise_case(c, lambda t: F.softmax(t, dim=-1), -4.0, 4.0)


def case_grad_reverse(c):
    class GradReverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, lam):
            ctx.lam = lam
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return -ctx.lam * g, None

    lam = 0.7
    x = c.leaf(c.uniform((13,)))
    y = GradReverse.apply(x, lam)
    backward(c, y)
    c.scalar_f("lambda", lam)
    c.add("x", x); c.add("y", y); c.add("dx", x.grad)


def case_layernorm(c, affine=True):
    n, ch, eps = 3, 7, 1e-5
    x = c.leaf(c.uniform((n, ch), -2.0, 2.0))
    w = c.leaf(c.uniform((ch,), 0.5, 1.5)) if affine else None
    b = c.leaf(c.uniform((ch,), -0.5, 0.5)) if affine else None
    y = F.layer_norm(x, (ch,), w, b, eps)
    backward(c, y)
    xd = x.detach()
    mean = xd.mean(-1)
    rstd = 1.0 / torch.sqrt(xd.var(-1, unbiased=False) + eps)
    c.scalar_f("eps", eps)
    c.add("x", x)
    if affine:
        c.add("w", w); c.add("b", b)
    c.add("y", y); c.add("mean", mean); c.add("rstd", rstd); c.add("dx", x.grad)
    if affine:
        c.add("dw", w.grad); c.add("db", b.grad)


def case_embedding_bag(c):
    n, l, v, d = 4, 5, 9, 5
    ids = c.randint((n, l), 0, v)
    ids[0, 3:] = -1           # padding at the end
    ids[1, 0] = -1            # padding in the middle of a bag
    ids[1, 2] = -1
    ids[2, :] = -1            # empty bag -> zeros
    ids[3, 1] = ids[3, 4]     # a repeated id, its gradient accumulates twice
    w = c.leaf(c.uniform((v, d)))
    # explicit mean over the non-padding ids; an empty bag gives zeros
    mask = (ids >= 0).to(F64)
    rows = w[ids.clamp(min=0)] * mask[..., None]
    y = rows.sum(1) / mask.sum(1).clamp(min=1.0)[:, None]
    # cross-check against nn.EmbeddingBag built from offsets of the valid ids
    flat = torch.cat([r[r >= 0] for r in ids])
    offsets = torch.tensor([0] + [int((r >= 0).sum()) for r in ids[:-1]]).cumsum(0)
    ref = F.embedding_bag(flat, w.detach(), offsets, mode="mean")
    assert torch.allclose(ref, y.detach(), atol=1e-12), "embedding_bag mismatch"
    backward(c, y)
    c.add("ids", ids, DT_I32); c.add("w", w); c.add("y", y); c.add("dw", w.grad)


def cosine_case(c, eps, shrink):
    n, km, kn, d = 2, 3, 4, 5
    xv = c.uniform((n, km, d))
    yv = c.uniform((n, kn, d))
    if shrink:
        # rows with a norm below eps exercise the max(‖·‖, eps) branch
        xv[0, 1] *= 0.01
        yv[1, 2] *= 0.01
    x = c.leaf(xv)
    y = c.leaf(yv)
    s = F.normalize(x, dim=-1, eps=eps) @ F.normalize(y, dim=-1, eps=eps).transpose(-1, -2)
    backward(c, s, "ds")
    xnorm = x.detach().norm(dim=-1).clamp(min=eps)
    ynorm = y.detach().norm(dim=-1).clamp(min=eps)
    c.scalar_f("eps", eps)
    c.add("x", x); c.add("y", y); c.add("s", s)
    c.add("xnorm", xnorm); c.add("ynorm", ynorm)
    c.add("dx", x.grad); c.add("dy", y.grad)


def case_cosine_matrix(c):
    cosine_case(c, 1e-8, False)


def case_cosine_matrix_clamp(c):
    cosine_case(c, 0.1, True)


# ---------------------------------------------------------------- losses

def case_cross_entropy(c):
    n, ch, ignore = 7, 5, -100
    logits = c.leaf(c.uniform((n, ch), -3.0, 3.0))
    t = c.randint((n,), 0, ch)
    t[2] = ignore
    t[5] = ignore
    cw = c.uniform((ch,), 0.5, 1.5)
    loss = F.cross_entropy(logits, t, weight=cw, ignore_index=ignore)
    probs = F.softmax(logits.detach(), dim=-1)
    backward_scalar(c, loss)
    c.scalar_i("ignore_index", ignore)
    c.add("logits", logits); c.add("targets", t, DT_I32); c.add("weight", cw)
    c.add("loss", loss); c.add("probs", probs); c.add("dlogits", logits.grad)


def case_cross_entropy_ignore(c):
    # no class weights, and the ignored value is a valid class index
    n, ch, ignore = 6, 4, 1
    logits = c.leaf(c.uniform((n, ch), -3.0, 3.0))
    t = torch.tensor([0, 1, 3, 2, 1, 3])
    loss = F.cross_entropy(logits, t, ignore_index=ignore)
    probs = F.softmax(logits.detach(), dim=-1)
    backward_scalar(c, loss)
    c.scalar_i("ignore_index", ignore)
    c.add("logits", logits); c.add("targets", t, DT_I32)
    c.add("loss", loss); c.add("probs", probs); c.add("dlogits", logits.grad)


def case_mse(c):
    n = 11
    pred = c.leaf(c.uniform((n,), -2.0, 2.0))
    target = c.uniform((n,), -2.0, 2.0)
    loss = F.mse_loss(pred, target)
    backward_scalar(c, loss)
    c.add("pred", pred); c.add("target", target); c.add("loss", loss)
    c.add("dpred", pred.grad)


def case_bce_logits(c):
    n = 11
    lv = c.uniform((n,), -6.0, 6.0)
    lv[3] = 30.0    # large magnitudes: the stable form must not overflow
    lv[7] = -30.0
    logits = c.leaf(lv)
    targets = c.uniform((n,), 0.0, 1.0)
    targets[0] = 0.0
    targets[1] = 1.0
    loss = F.binary_cross_entropy_with_logits(logits, targets)
    backward_scalar(c, loss)
    c.add("logits", logits); c.add("targets", targets); c.add("loss", loss)
    c.add("dlogits", logits.grad)


def case_info_nce(c):
    n, d, tau = 5, 6, 0.1
    a = c.leaf(c.uniform((n, d)))
    b = c.leaf(c.uniform((n, d)))
    logits = (F.normalize(a, dim=-1, eps=1e-8)
              @ F.normalize(b, dim=-1, eps=1e-8).t()) / tau
    tgt = torch.arange(n)
    loss = 0.5 * (F.cross_entropy(logits, tgt) + F.cross_entropy(logits.t(), tgt))
    backward_scalar(c, loss)
    c.scalar_f("tau", tau)
    c.add("a", a); c.add("b", b); c.add("loss", loss)
    c.add("da", a.grad); c.add("db", b.grad)


# ---------------------------------------------------------------- optimisers

STEPS = 3
LRS = [0.01, 0.02, 0.005]   # a different lr per step, as a schedule would give


def optim_case(c, make_opt, wd):
    """Two parameters: "w" (3,4) with weight decay, "b" (4) without, as the
    optimiser object's per-parameter decay flag does. Float32 throughout."""
    w0 = c.uniform((3, 4)).float()
    b0 = c.uniform((4,)).float()
    gw = c.uniform((STEPS, 3, 4)).float()
    gb = c.uniform((STEPS, 4)).float()
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    opt = make_opt([{"params": [w], "weight_decay": wd},
                    {"params": [b], "weight_decay": 0.0}])
    w_after, b_after = [], []
    for t in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LRS[t]
        w.grad = gw[t].clone()
        b.grad = gb[t].clone()
        opt.step()
        w_after.append(w.detach().clone())
        b_after.append(b.detach().clone())
    c.add("lr", np.array(LRS)); c.scalar_f("weight_decay", wd)
    c.add("w0", w0); c.add("b0", b0); c.add("gw", gw); c.add("gb", gb)
    c.add("w_after", torch.stack(w_after)); c.add("b_after", torch.stack(b_after))


def case_adamw(c):
    optim_case(c, lambda groups: torch.optim.AdamW(
        groups, lr=LRS[0], betas=(0.9, 0.999), eps=1e-8, foreach=False), 0.1)


def case_sgd_momentum(c):
    optim_case(c, lambda groups: torch.optim.SGD(
        groups, lr=LRS[0], momentum=0.9, nesterov=False, foreach=False), 0.05)


def case_sgd_nesterov(c):
    optim_case(c, lambda groups: torch.optim.SGD(
        groups, lr=LRS[0], momentum=0.9, nesterov=True, foreach=False), 0.05)


def case_clip_grad_norm(c):
    # two gradient tensors clipped together, as one flat slab in mmdnn
    g1 = c.uniform((5,)).float()
    g2 = c.uniform((3, 4)).float()
    flat = torch.cat([g1, g2.flatten()])
    c.add("g", flat)
    for tag, max_norm in (("a", 1.0), ("b", 10.0)):   # clipped / untouched
        p1 = torch.zeros(5, requires_grad=True)
        p2 = torch.zeros(3, 4, requires_grad=True)
        p1.grad = g1.clone()
        p2.grad = g2.clone()
        norm = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm)
        c.scalar_f("max_norm_" + tag, max_norm)
        c.add("clipped_" + tag, torch.cat([p1.grad, p2.grad.flatten()]))
        if tag == "a":
            c.scalar_f("norm", float(norm))
            assert float(norm) > max_norm
        else:
            assert float(norm) < max_norm


def lr_schedule(base, min_lr, warmup, total, step):
    if step < warmup:
        return base * (step + 1) / warmup
    if step >= total:
        return min_lr
    progress = (step - warmup) / (total - warmup)
    return min_lr + 0.5 * (base - min_lr) * (1.0 + math.cos(math.pi * progress))


def case_lr_schedule(c):
    for tag, (base, min_lr, warmup, total, nsteps) in (
            ("a", (1.0, 0.1, 5, 20, 25)),
            ("b", (0.5, 0.0, 0, 10, 12))):
        c.add("cfg_" + tag, np.array([base, min_lr]))
        c.add("steps_" + tag, np.array([warmup, total]), DT_I32)
        c.add("lr_" + tag, np.array([lr_schedule(base, min_lr, warmup, total, s)
                                     for s in range(nsteps)]))


# name -> (seed, builder); a fixed seed per case so adding one changes no other
CASES = {
    "linear": (101, case_linear),
    "linear-nobias": (102, lambda c: case_linear(c, bias=False)),
    "conv2d": (201, case_conv2d),
    "conv2d-rect": (202, case_conv2d_rect),
    "conv-transpose2d": (203, case_conv_transpose2d),
    "conv1d": (204, case_conv1d),
    "maxpool2d": (301, case_maxpool2d),
    "avgpool2d": (302, case_avgpool2d),
    "global-avgpool": (303, case_global_avgpool),
    "adaptive-avgpool": (304, case_adaptive_avgpool),
    "relu": (401, case_relu),
    "gelu": (402, case_gelu),
    "sigmoid": (403, case_sigmoid),
    "tanh": (404, case_tanh),
    "softmax": (405, case_softmax),
    "grad-reverse": (406, case_grad_reverse),
    "layernorm": (501, case_layernorm),
    "layernorm-noaffine": (502, lambda c: case_layernorm(c, affine=False)),
    "embedding-bag": (601, case_embedding_bag),
    "cosine-matrix": (701, case_cosine_matrix),
    "cosine-matrix-clamp": (702, case_cosine_matrix_clamp),
    "cross-entropy": (801, case_cross_entropy),
    "cross-entropy-ignore": (802, case_cross_entropy_ignore),
    "mse": (803, case_mse),
    "bce-logits": (804, case_bce_logits),
    "info-nce": (805, case_info_nce),
    "adamw": (901, case_adamw),
    "sgd-momentum": (902, case_sgd_momentum),
    "sgd-nesterov": (903, case_sgd_nesterov),
    "clip-grad-norm": (904, case_clip_grad_norm),
    "lr-schedule": (905, case_lr_schedule),
}


def build(name, spec):
    seed, builder = spec
    c = Case(seed)
    builder(c)
    return c.tensors


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    sys.exit(mmdg.main(CASES, build, description=__doc__))
