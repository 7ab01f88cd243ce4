/* mmdnn — the direct-convolution loops, written once for every instruction
 * set. conv-direct.c includes this file once per ISA after defining:
 *   FN(name)        the name with the ISA's suffix
 *   VEC, V          the vector type and its lanes (V ≤ MMDNN_DIRECT_LANES)
 *   VLOAD, VSTORE   unaligned load/store of V floats
 *   VSET1 (s)       s in every lane
 *   VFMA (a, b, c)  a·b + c (fused where the ISA has it)
 *   VZERO           all lanes 0
 *   CB, NV          output channels × vectors per register block (forward)
 *   CBW, NVW        the same for many input channels (corr_wide); CBW 0
 *                   for none
 *   CBR             a narrower wide block for what CBW leaves (0: none)
 *   DCB, DTB        output channels × taps per register block (dw)
 * and undefines them all at its end. Every function is static, so each
 * inclusion is private to its ISA. The block loops are unrolled so acc
 * stays in registers for every cb, nv, tb.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/* y (cout, oh, ow) += w (cout, cin, kh, kw) ⋆ xp (cin, xph, xpw): a stride-1
 * correlation over an already padded input, for output channels
 * [co0, co0 + cb), row oy, the nv vectors from column ox0. Columns past ow
 * are computed (xp has room for them) but never stored. cb and nv are
 * constants at every call, so acc stays in registers. */
static inline __attribute__ ((always_inline)) void
FN (corr_block) (float *y, const float *xp, const float *w, int64_t cin,
                 int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t xph,
                 int64_t xpw, int64_t co0, int64_t oy, int64_t ox0, int cb,
                 int nv)
{
  VEC acc[2 * CBW > CB ? 2 * CBW : CB][NV];
  int64_t taps = cin * kh * kw;

  _Pragma ("GCC unroll 32")
  for (int c = 0; c < cb; c++)
    _Pragma ("GCC unroll 32")
    for (int j = 0; j < nv; j++) {
      const float *src = y + ((co0 + c) * oh + oy) * ow + ox0 + j * V;
      int64_t left = ow - ox0 - j * V;

      if (left >= V) {
        acc[c][j] = VLOAD (src);
      } else {
        float tmp[V];

        memset (tmp, 0, sizeof tmp);
        memcpy (tmp, src, sizeof (float) * left);
        acc[c][j] = VLOAD (tmp);
      }
    }
  for (int64_t ci = 0; ci < cin; ci++)
    for (int64_t ki = 0; ki < kh; ki++) {
      const float *row = xp + (ci * xph + oy + ki) * xpw + ox0;
      const float *wt = w + (co0 * cin + ci) * kh * kw + ki * kw;

      for (int64_t kj = 0; kj < kw; kj++) {
        VEC xv[NV];

        _Pragma ("GCC unroll 32")
        for (int j = 0; j < nv; j++)
          xv[j] = VLOAD (row + kj + j * V);
        _Pragma ("GCC unroll 32")
        for (int c = 0; c < cb; c++) {
          VEC wv = VSET1 (wt[c * taps + kj]);

          _Pragma ("GCC unroll 32")
          for (int j = 0; j < nv; j++)
            acc[c][j] = VFMA (wv, xv[j], acc[c][j]);
        }
      }
    }
  _Pragma ("GCC unroll 32")
  for (int c = 0; c < cb; c++)
    _Pragma ("GCC unroll 32")
    for (int j = 0; j < nv; j++) {
      float *dst = y + ((co0 + c) * oh + oy) * ow + ox0 + j * V;
      int64_t left = ow - ox0 - j * V;

      if (left >= V) {
        VSTORE (dst, acc[c][j]);
      } else {
        float tmp[V];

        VSTORE (tmp, acc[c][j]);
        memcpy (dst, tmp, sizeof (float) * left);
      }
    }
}

/* Every row in blocks of cb channels × nv vectors (the rest of a row one
 * vector at a time); cb and nv constants at every call. */
static inline __attribute__ ((always_inline)) void
FN (corr_rows) (float *y, const float *xp, const float *w, int64_t cin,
                int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t xph,
                int64_t xpw, int64_t co0, int cb, int nv)
{
  int64_t nvec = (ow + V - 1) / V;

  for (int64_t oy = 0; oy < oh; oy++) {
    int64_t j = 0;

    for (; j + nv <= nvec; j += nv)
      FN (corr_block) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co0, oy,
                       j * V, cb, nv);
    for (; j < nvec; j++)
      FN (corr_block) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co0, oy,
                       j * V, cb, 1);
  }
}

static inline __attribute__ ((always_inline)) void
FN (corr_channels) (float *y, const float *xp, const float *w, int64_t cin,
                    int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                    int64_t xph, int64_t xpw, int64_t co0, int cb)
{
  FN (corr_rows) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co0, cb, NV);
}

/* dw (cout, cin, kh, kw) += Σ_{oy, ox} dyp[co][oy][ox] · xp[ci][oy+ki][ox+kj]
 * for output channels [co0, co0 + cb) of the block dyp (cb, oh, owv) and
 * the taps kj0 … kj0 + tb − 1 of (ci, ki). dyp's columns past ow are zero,
 * so whole vectors run to owv = ⌈ow / V⌉·V; the lanes are summed at the end
 * in a fixed order. */
static inline __attribute__ ((always_inline)) void
FN (dw_block) (float *dw, const float *dyp, const float *xp, int64_t cin,
               int64_t oh, int64_t owv, int64_t dyp_w, int64_t kh, int64_t kw,
               int64_t xph, int64_t xpw, int64_t co0, int64_t ci, int64_t ki,
               int64_t kj0, int cb, int tb)
{
  VEC acc[DCB][DTB];

  _Pragma ("GCC unroll 16")
  for (int c = 0; c < cb; c++)
    _Pragma ("GCC unroll 16")
    for (int t = 0; t < tb; t++)
      acc[c][t] = VZERO;
  for (int64_t oy = 0; oy < oh; oy++) {
    const float *xrow = xp + (ci * xph + oy + ki) * xpw + kj0;
    const float *drow = dyp + oy * dyp_w;

    for (int64_t ox = 0; ox < owv; ox += V) {
      VEC dv[DCB];

      _Pragma ("GCC unroll 16")
      for (int c = 0; c < cb; c++)
        dv[c] = VLOAD (drow + c * oh * dyp_w + ox);
      _Pragma ("GCC unroll 16")
      for (int t = 0; t < tb; t++) {
        VEC xv = VLOAD (xrow + ox + t);

        _Pragma ("GCC unroll 16")
        for (int c = 0; c < cb; c++)
          acc[c][t] = VFMA (dv[c], xv, acc[c][t]);
      }
    }
  }
  _Pragma ("GCC unroll 16")
  for (int c = 0; c < cb; c++)
    _Pragma ("GCC unroll 16")
    for (int t = 0; t < tb; t++) {
      float lane[V], sum = 0.0f;

      VSTORE (lane, acc[c][t]);
      _Pragma ("GCC unroll 16")
      for (int l = 0; l < V; l++)
        sum += lane[l];
      dw[(((co0 + c) * cin + ci) * kh + ki) * kw + kj0 + t] += sum;
    }
}

static inline __attribute__ ((always_inline)) void
FN (dw_channels) (float *dw, const float *dyp, const float *xp, int64_t cin,
                  int64_t oh, int64_t owv, int64_t dyp_w, int64_t kh,
                  int64_t kw, int64_t xph, int64_t xpw, int64_t co0, int cb)
{
  for (int64_t ci = 0; ci < cin; ci++)
    for (int64_t ki = 0; ki < kh; ki++) {
      int64_t kj = 0;

#define DW_BLOCK_AT(tb)                                                        \
      FN (dw_block) (dw, dyp, xp, cin, oh, owv, dyp_w, kh, kw, xph, xpw, co0,  \
                     ci, ki, kj, cb, (tb))
      for (; kj + DTB <= kw; kj += DTB)
        DW_BLOCK_AT (DTB);
      /* the rest of the row in one block: k3 with DTB 4 is all rest */
      switch (kw - kj) {
#if DTB > 3
      case 3: DW_BLOCK_AT (3); break;
#endif
#if DTB > 2
      case 2: DW_BLOCK_AT (2); break;
#endif
      case 1: DW_BLOCK_AT (1); break;
#undef DW_BLOCK_AT
      default:
        break;
      }
    }
}

/* One function per channel count and pass (cb is a constant in each):
 * inlined into one, GCC spills acc to the stack. */
#define PER_CHANNELS(cb)                                                       \
  static __attribute__ ((noinline)) void                                      \
  FN (corr_channels_##cb) (float *y, const float *xp, const float *w,         \
                           int64_t cin, int64_t oh, int64_t ow, int64_t kh,   \
                           int64_t kw, int64_t xph, int64_t xpw, int64_t co0) \
  {                                                                            \
    FN (corr_channels) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co0, cb);     \
  }                                                                            \
  static __attribute__ ((noinline)) void                                      \
  FN (dw_channels_##cb) (float *dw, const float *dyp, const float *xp,        \
                         int64_t cin, int64_t oh, int64_t owv, int64_t dyp_w, \
                         int64_t kh, int64_t kw, int64_t xph, int64_t xpw,    \
                         int64_t co0)                                         \
  {                                                                            \
    FN (dw_channels) (dw, dyp, xp, cin, oh, owv, dyp_w, kh, kw, xph, xpw,     \
                      co0, cb);                                                \
  }
PER_CHANNELS (1)
PER_CHANNELS (2)
PER_CHANNELS (3)
PER_CHANNELS (4)
#undef PER_CHANNELS

#if CBW > 0
/* Many input channels (the multi-scale branch's 48 → 64 at 32×32 and
 * 64 → 128 at 16×16): rows of one or two vectors, so CB × NV blocks would
 * run with CB accumulators, too few to hide the FMA latency. CBW output
 * channels × up to NVW vectors fill the register file instead, and the
 * deep tap loop (cin·kh·kw) amortises loading them; CBR-channel blocks
 * take what CBW blocks leave (64 = 4 × 12 + 2 × 8), which would otherwise
 * run with CB accumulators. */
#define WIDE_BLOCKS(name, cb)                                                  \
  static __attribute__ ((noinline)) void                                      \
  FN (name) (float *y, const float *xp, const float *w, int64_t cin,          \
             int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t xph,     \
             int64_t xpw, int64_t co0)                                        \
  {                                                                            \
    FN (corr_rows) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co0, (cb), NVW);  \
  }
WIDE_BLOCKS (corr_wide, CBW)
#if CBR > 0
WIDE_BLOCKS (corr_rest, CBR)
#endif
#undef WIDE_BLOCKS

/* Rows of one vector (16×16 on AVX-512): twice the channels instead. */
static __attribute__ ((noinline)) void
FN (corr_wide1) (float *y, const float *xp, const float *w, int64_t cin,
                 int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t xph,
                 int64_t xpw, int64_t co0)
{
  for (int64_t oy = 0; oy < oh; oy++)
    FN (corr_block) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co0, oy, 0,
                     2 * CBW, 1);
}
#endif

static void
FN (corr) (float *y, const float *xp, const float *w, int64_t cin,
           int64_t cout, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
           int64_t xph, int64_t xpw)
{
  static const CorrChannelsFn channels[] = {
    NULL, FN (corr_channels_1), FN (corr_channels_2), FN (corr_channels_3),
    FN (corr_channels_4),
  };
  int64_t co = 0;

  G_STATIC_ASSERT (CB == 4);
#if CBW > 0
  if (cin > MMDNN_DIRECT_WIDE_C_IN && ow <= V)
    for (; co + 2 * CBW <= cout; co += 2 * CBW)
      FN (corr_wide1) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co);
  /* CBW blocks while what is left is one or leaves room for CBR blocks */
  if (cin > MMDNN_DIRECT_WIDE_C_IN)
    for (; cout - co == CBW || cout - co >= CBW + CBR; co += CBW)
      FN (corr_wide) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co);
#if CBR > 0
  if (cin > MMDNN_DIRECT_WIDE_C_IN)
    for (; co + CBR <= cout; co += CBR)
      FN (corr_rest) (y, xp, w, cin, oh, ow, kh, kw, xph, xpw, co);
#endif
#endif
  for (; co < cout; co += CB)
    channels[MIN (CB, cout - co)] (y, xp, w, cin, oh, ow, kh, kw, xph, xpw,
                                   co);
}

/* One block of cb ≤ DCB output channels; dyp holds exactly those. */
static void
FN (dw) (float *dw, const float *dyp, const float *xp, int64_t cin,
         int64_t oh, int64_t ow, int64_t dyp_w, int64_t kh, int64_t kw,
         int64_t xph, int64_t xpw, int64_t co0, int cb)
{
  static const DwChannelsFn channels[] = {
    NULL, FN (dw_channels_1), FN (dw_channels_2), FN (dw_channels_3),
    FN (dw_channels_4),
  };

  G_STATIC_ASSERT (DCB == 4);
  channels[cb] (dw, dyp, xp, cin, oh, (ow + V - 1) / V * V, dyp_w, kh, kw,
                xph, xpw, co0);
}

static const MmdnnDirectKernels FN (kernels) = { FN (corr), FN (dw), V,
                                                 CBW };

#undef FN
#undef VEC
#undef V
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VFMA
#undef VZERO
#undef CB
#undef NV
#undef CBW
#undef NVW
#undef CBR
#undef DCB
#undef DTB
