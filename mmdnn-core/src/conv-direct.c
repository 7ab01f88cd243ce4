/* mmdnn — direct stride-1 convolution for few input channels, and for many
 * on AVX2 / AVX-512.
 *
 * A convolution from 1–3 input channels is a skinny GEMM (K = C_in·KH·KW
 * = 9…147 against P = 4096 pixels) that sgemm runs well below its peak, on
 * top of an im2col copy KH·KW times the size of the input. Here the input
 * is copied once into a zero-padded buffer and every output row is
 * accumulated in registers straight from it: forward, dw (a correlation of
 * dy with the input) and dx (the forward loop on dy with the kernel
 * flipped). The loops are compiled once per instruction set (portable GCC
 * vectors, AVX2 + FMA, AVX-512F) and one is picked at run time by CPU
 * features; mmdnn_conv_kernel_set or MMDNN_CONV_KERNEL force another.
 *
 * With many input channels (the multi-scale branch's 48 → 64 at 32×32 and
 * 64 → 128 at 16×16) the GEMM has depth, but sgemm still packs an im2col
 * copy 9× the input for rows of only 64–128 outputs, and dx needs col2im
 * after it. There the forward loop with wider register blocks (corr_wide)
 * runs the forward pass, and dx as that loop over all dy planes with the
 * kernel transposed and turned. dw stays on im2col + sgemm: the dw loop
 * below, allowed there, took as long as sgemm on 48 → 64 at 32×32 with
 * OpenBLAS's Haswell kernels (and lost at 16×16).
 *
 * Results differ from im2col + GEMM only in rounding: the sums run in
 * another order, and AVX2/AVX-512 fuse multiply and add. tests/core/
 * test-conv-direct.c holds every path to the GEMM path within a relative
 * 1e-5 of the sum of |terms|.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "conv-direct.h"
#include "internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_KERNELS 1
#include <immintrin.h>
#else
#define HAVE_X86_KERNELS 0
#endif

/* More input channels make a GEMM of useful depth: for dw and dx im2col +
 * sgemm wins. */
#define MMDNN_DIRECT_MAX_C_IN 4

/* ---- the loops, once per ISA ------------------------------------------ */

/* the register blocks of one channel count (see conv-direct-impl.h) */
typedef void (*CorrChannelsFn) (float *y, const float *xp, const float *w,
                                int64_t cin, int64_t oh, int64_t ow,
                                int64_t kh, int64_t kw, int64_t xph,
                                int64_t xpw, int64_t co0);
typedef void (*DwChannelsFn) (float *dw, const float *dyp, const float *xp,
                              int64_t cin, int64_t oh, int64_t owv,
                              int64_t dyp_w, int64_t kh, int64_t kw,
                              int64_t xph, int64_t xpw, int64_t co0);

/* Portable: 4-lane GCC vectors, which every SIMD target has (SSE2,
 * NEON) and others lower to scalars. ISO C mode keeps a·b + c unfused. */
typedef float PortableVec __attribute__ ((vector_size (16)));

static inline PortableVec
portable_load (const float *p)
{
  PortableVec v;

  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
portable_store (float *p, PortableVec v)
{
  memcpy (p, &v, sizeof v);
}

#define FN(name) portable_##name
#define VEC PortableVec
#define V 4
#define VLOAD(p) portable_load (p)
#define VSTORE(p, v) portable_store ((p), (v))
#define VSET1(s) ((PortableVec) { (s), (s), (s), (s) })
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VZERO ((PortableVec) { 0 })
#define CB 4
#define NV 2
#define CBW 0
#define NVW 1
#define CBR 0
#define DCB 4
#define DTB 2
#include "conv-direct-impl.h"

#if HAVE_X86_KERNELS
/* Each ISA's functions are compiled for it alone: GCC by a target pragma,
 * clang (the fuzzing tree) by a target attribute on every function, as it
 * ignores GCC's pragma and then refuses to inline the intrinsics. */
#if defined(__clang__)
#define ISA_BEGIN(t) _Pragma (t)
#define ISA_END _Pragma ("clang attribute pop")
#define ISA_AVX2 "clang attribute push (__attribute__ ((target (\"avx2,fma\"))), apply_to = function)"
#define ISA_AVX512 "clang attribute push (__attribute__ ((target (\"avx512f\"))), apply_to = function)"
#else
#define ISA_BEGIN(t) _Pragma ("GCC push_options") _Pragma (t)
#define ISA_END _Pragma ("GCC pop_options")
#define ISA_AVX2 "GCC target (\"avx2,fma\")"
#define ISA_AVX512 "GCC target (\"avx512f\")"
#endif

/* 16 ymm registers: 4 × 2 accumulators (6 × 2 for many input channels),
 * the loaded vectors beside them. */
ISA_BEGIN (ISA_AVX2)
#define FN(name) avx2_##name
#define VEC __m256
#define V 8
#define VLOAD(p) _mm256_loadu_ps (p)
#define VSTORE(p, v) _mm256_storeu_ps ((p), (v))
#define VSET1(s) _mm256_set1_ps (s)
#define VFMA(a, b, c) _mm256_fmadd_ps ((a), (b), (c))
#define VZERO _mm256_setzero_ps ()
#define CB 4
#define NV 2
#define CBW 6
#define NVW 2
#define CBR 0
#define DCB 4
#define DTB 2
#include "conv-direct-impl.h"
ISA_END

/* 32 zmm registers: 4 × 4 accumulators (12 × 2 for many input channels,
 * 8 × 2 for the rest). */
ISA_BEGIN (ISA_AVX512)
#define FN(name) avx512_##name
#define VEC __m512
#define V 16
#define VLOAD(p) _mm512_loadu_ps (p)
#define VSTORE(p, v) _mm512_storeu_ps ((p), (v))
#define VSET1(s) _mm512_set1_ps (s)
#define VFMA(a, b, c) _mm512_fmadd_ps ((a), (b), (c))
#define VZERO _mm512_setzero_ps ()
#define CB 4
#define NV 4
#define CBW 12
#define NVW 2
#define CBR 8
#define DCB 4
#define DTB 4
#include "conv-direct-impl.h"
ISA_END
#endif

/* ---- which ISA -------------------------------------------------------- */

static const char *const kernel_names[] = {
  [MMDNN_CONV_KERNEL_GEMM] = "gemm",
  [MMDNN_CONV_KERNEL_PORTABLE] = "portable",
  [MMDNN_CONV_KERNEL_AVX2] = "avx2",
  [MMDNN_CONV_KERNEL_AVX512] = "avx512",
};

/* -1 until the first use picks one */
static gint selected = -1;

const char *
mmdnn_conv_kernel_name (MmdnnConvKernel k)
{
  return (unsigned) k < G_N_ELEMENTS (kernel_names) ? kernel_names[k] : NULL;
}

gboolean
mmdnn_conv_kernel_supported (MmdnnConvKernel k)
{
  switch (k) {
  case MMDNN_CONV_KERNEL_GEMM:
  case MMDNN_CONV_KERNEL_PORTABLE:
    return TRUE;
#if HAVE_X86_KERNELS
  case MMDNN_CONV_KERNEL_AVX2:
    __builtin_cpu_init ();
    return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  case MMDNN_CONV_KERNEL_AVX512:
    __builtin_cpu_init ();
    return __builtin_cpu_supports ("avx512f");
#endif
  default:
    return FALSE;
  }
}

static MmdnnConvKernel
best_kernel (void)
{
#ifdef __SANITIZE_ADDRESS__
  /* Under AddressSanitizer every vector load of these loops is checked
   * while OpenBLAS runs uninstrumented: "auto" keeps im2col + sgemm so the
   * sanitizer tree's live and pipeline tests keep their timing.
   * test-conv-direct still runs every path there, by name. */
  return MMDNN_CONV_KERNEL_GEMM;
#endif
  for (int k = MMDNN_CONV_KERNEL_AVX512; k > MMDNN_CONV_KERNEL_PORTABLE; k--)
    if (mmdnn_conv_kernel_supported (k))
      return k;
  return MMDNN_CONV_KERNEL_PORTABLE;
}

/* MMDNN_CONV_KERNEL names one; a name this CPU cannot run (or an unknown
 * one) is ignored with a warning, never fatal. */
static MmdnnConvKernel
initial_kernel (void)
{
  const char *env = g_getenv ("MMDNN_CONV_KERNEL");

  if (env == NULL || *env == '\0' || g_strcmp0 (env, "auto") == 0)
    return best_kernel ();
  for (int k = 0; k < (int) G_N_ELEMENTS (kernel_names); k++)
    if (g_strcmp0 (env, kernel_names[k]) == 0) {
      if (mmdnn_conv_kernel_supported (k))
        return k;
      mmdnn_log (MMDNN_LOG_WARNING, "MMDNN_CONV_KERNEL=%s: not supported "
                 "by this CPU, using %s", env, kernel_names[best_kernel ()]);
      return best_kernel ();
    }
  mmdnn_log (MMDNN_LOG_WARNING, "MMDNN_CONV_KERNEL=%s: unknown (gemm, "
             "portable, avx2, avx512 or auto), using %s", env,
             kernel_names[best_kernel ()]);
  return best_kernel ();
}

MmdnnConvKernel
mmdnn_conv_kernel_get (void)
{
  gint k = g_atomic_int_get (&selected);

  if (k < 0) {
    g_atomic_int_compare_and_exchange (&selected, -1, (gint) initial_kernel ());
    k = g_atomic_int_get (&selected);
  }
  return k;
}

gboolean
mmdnn_conv_kernel_set (MmdnnConvKernel k, GError **error)
{
  MMDNN_CHECK (mmdnn_conv_kernel_name (k) != NULL, error, FALSE,
               "%s: unknown convolution kernel %d", G_STRFUNC, (int) k);
  MMDNN_CHECK (mmdnn_conv_kernel_supported (k), error, FALSE,
               "%s: this CPU cannot run the %s kernels", G_STRFUNC,
               kernel_names[k]);
  g_atomic_int_set (&selected, (gint) k);
  return TRUE;
}

const MmdnnDirectKernels *
mmdnn_conv_direct_kernels (void)
{
  switch (mmdnn_conv_kernel_get ()) {
  case MMDNN_CONV_KERNEL_PORTABLE:
    return &portable_kernels;
#if HAVE_X86_KERNELS
  case MMDNN_CONV_KERNEL_AVX2:
    return &avx2_kernels;
  case MMDNN_CONV_KERNEL_AVX512:
    return &avx512_kernels;
#endif
  default:
    return NULL;
  }
}

/* ---- layouts and the per-sample drivers -------------------------------- */

static int64_t
round_up (int64_t v, int64_t m)
{
  return (v + m - 1) / m * m;
}

/* A plane that a kh × kw correlation reads to give rows × cols outputs:
 * rows + kh − 1 rows, and room on the right for whole vectors past cols. */
static int64_t
padded_rows (int64_t rows, int64_t kh)
{
  return rows + kh - 1;
}

static int64_t
padded_cols (int64_t cols, int64_t kw)
{
  return round_up (cols, MMDNN_DIRECT_LANES) + kw - 1;
}

/* The padded input: (c_in, xph, xpw) with the "same"-side padding on every
 * edge. */
static int64_t
xp_rows (const MmdnnConv2dShape *s)
{
  return padded_rows (s->h_out, s->kh);
}

static int64_t
xp_cols (const MmdnnConv2dShape *s)
{
  return padded_cols (s->w_out, s->kw);
}

/* Output channels per dw block: the kernels' DCB (4 for every ISA). */
#define DW_BLOCK 4

static gboolean
geometry_ok (const MmdnnConv2dShape *s)
{
  return s->stride_h == 1 && s->stride_w == 1 && s->pad_h < s->kh &&
      s->pad_w < s->kw;
}

static gboolean
shape_ok (const MmdnnConv2dShape *s)
{
  return geometry_ok (s) && s->c_in <= MMDNN_DIRECT_MAX_C_IN;
}

/* Many input channels through the wide blocks: measured on AVX-512 with
 * OpenBLAS's Haswell sgemm, 48 → 64 at 32×32 and 64 → 128 at 16×16 run
 * faster than im2col + sgemm (tests/bench/README.md). */
gboolean
mmdnn_conv_direct_forward_ok (const MmdnnDirectKernels *k,
                              const MmdnnConv2dShape *s)
{
  gboolean channels_ok = s->c_in <= MMDNN_DIRECT_MAX_C_IN ||
      (k->wide > 0 && s->c_in > MMDNN_DIRECT_WIDE_C_IN);

  return geometry_ok (s) && channels_ok &&
      s->c_in * xp_rows (s) * xp_cols (s) <= s->col_size;
}

/* xp, then the block of dy with whole vectors per row */
gboolean
mmdnn_conv_direct_dw_ok (const MmdnnConv2dShape *s)
{
  int64_t dyp = MIN (DW_BLOCK, s->c_out) * s->h_out *
      round_up (s->w_out, MMDNN_DIRECT_LANES);

  return shape_ok (s) &&
      s->c_in * xp_rows (s) * xp_cols (s) + dyp <= s->col_size;
}

/* dx = the forward loop over dy padded by (k − 1 − pad), one dy channel at
 * a time, with the kernel flipped: (c_out, c_in, kh, kw) floats of flipped
 * weights, then one padded dy plane that gives h_in × w_in outputs. */
#define DYP_ROWS(s) padded_rows ((s)->h_in, (s)->kh)
#define DYP_COLS(s) padded_cols ((s)->w_in, (s)->kw)

/* With one or two input channels the flipped loop has too few outputs per
 * dy load to beat col2im + sgemm (measured: 1×64×100 k5, 0.8× on AVX-512,
 * 0.65× on AVX2). */
#define MMDNN_DIRECT_DX_MIN_C_IN 3

/* Many output channels (dy's, the transposed problem's input channels)
 * and many input channels (its outputs, which the wide blocks need):
 * every dy plane padded at once, the forward's wide blocks over them. */
static gboolean
dx_wide_ok (const MmdnnDirectKernels *k, const MmdnnConv2dShape *s)
{
  return k->wide > 0 && geometry_ok (s) &&
      s->c_out > MMDNN_DIRECT_WIDE_C_IN && s->c_in > MMDNN_DIRECT_WIDE_C_IN &&
      s->c_out * s->c_in * s->kh * s->kw +
      s->c_out * DYP_ROWS (s) * DYP_COLS (s) <= s->col_size;
}

gboolean
mmdnn_conv_direct_dx_ok (const MmdnnDirectKernels *k,
                         const MmdnnConv2dShape *s)
{
  return (shape_ok (s) && s->c_in >= MMDNN_DIRECT_DX_MIN_C_IN &&
          s->c_out * s->c_in * s->kh * s->kw + DYP_ROWS (s) * DYP_COLS (s) <=
          s->col_size) || dx_wide_ok (k, s);
}

/* dst (rows, cols) = src (h, w) placed at (top, left), zero elsewhere */
static void
pad_plane (float *dst, int64_t rows, int64_t cols, const float *src,
           int64_t h, int64_t w, int64_t top, int64_t left)
{
  memset (dst, 0, sizeof (float) * rows * cols);
  for (int64_t r = MAX (0, top); r < MIN (rows, top + h); r++) {
    int64_t c0 = MAX (0, left), c1 = MIN (cols, left + w);

    if (c1 > c0)
      memcpy (dst + r * cols + c0, src + (r - top) * w + (c0 - left),
              sizeof (float) * (c1 - c0));
  }
}

static void
pad_input (float *xp, const float *x, const MmdnnConv2dShape *s)
{
  int64_t rows = xp_rows (s), cols = xp_cols (s);

  for (int64_t c = 0; c < s->c_in; c++)
    pad_plane (xp + c * rows * cols, rows, cols,
               x + c * s->h_in * s->w_in, s->h_in, s->w_in, s->pad_h,
               s->pad_w);
}

void
mmdnn_conv_direct_forward (const MmdnnDirectKernels *k, float *y, float *col,
                           const float *x, const float *w, const float *b,
                           const MmdnnConv2dShape *s, int64_t n)
{
  int64_t p = s->h_out * s->w_out, in = s->c_in * s->h_in * s->w_in;

  for (int64_t i = 0; i < n; i++) {
    float *yi = y + i * s->c_out * p;

    pad_input (col, x + i * in, s);
    for (int64_t c = 0; c < s->c_out; c++) {
      float v = b != NULL ? b[c] : 0.0f;

      for (int64_t j = 0; j < p; j++)
        yi[c * p + j] = v;
    }
    k->corr (yi, col, w, s->c_in, s->c_out, s->h_out, s->w_out, s->kh, s->kw,
             xp_rows (s), xp_cols (s));
  }
}

void
mmdnn_conv_direct_dw (const MmdnnDirectKernels *k, float *dw, float *col,
                      const float *dy, const float *x,
                      const MmdnnConv2dShape *s, int64_t n)
{
  int64_t p = s->h_out * s->w_out, in = s->c_in * s->h_in * s->w_in;
  int64_t dyp_w = round_up (s->w_out, MMDNN_DIRECT_LANES);
  float *xp = col, *dyp = col + s->c_in * xp_rows (s) * xp_cols (s);

  for (int64_t i = 0; i < n; i++) {
    const float *dyi = dy + i * s->c_out * p;

    pad_input (xp, x + i * in, s);
    for (int64_t co = 0; co < s->c_out; co += DW_BLOCK) {
      int cb = (int) MIN (DW_BLOCK, s->c_out - co);

      for (int c = 0; c < cb; c++)
        pad_plane (dyp + c * s->h_out * dyp_w, s->h_out, dyp_w,
                   dyi + (co + c) * p, s->h_out, s->w_out, 0, 0);
      k->dw (dw, dyp, xp, s->c_in, s->h_out, s->w_out, dyp_w, s->kh, s->kw,
             xp_rows (s), xp_cols (s), co, cb);
    }
  }
}

void
mmdnn_conv_direct_dx (const MmdnnDirectKernels *k, float *dx, float *col,
                      const float *dy, const float *w,
                      const MmdnnConv2dShape *s, int64_t n)
{
  int64_t p = s->h_out * s->w_out, taps = s->kh * s->kw;
  int64_t in = s->c_in * s->h_in * s->w_in;
  float *wf = col, *dyp = col + s->c_out * s->c_in * taps;

  if (!(shape_ok (s) && s->c_in >= MMDNN_DIRECT_DX_MIN_C_IN) &&
      dx_wide_ok (k, s)) {
    int64_t plane = DYP_ROWS (s) * DYP_COLS (s);

    /* wf (c_in, c_out, kh, kw): w transposed and turned by 180°, the
     * weights of a correlation from the c_out dy planes to the c_in dx
     * planes */
    for (int64_t co = 0; co < s->c_out; co++)
      for (int64_t ci = 0; ci < s->c_in; ci++)
        for (int64_t t = 0; t < taps; t++)
          wf[(ci * s->c_out + co) * taps + t] =
              w[(co * s->c_in + ci) * taps + taps - 1 - t];
    for (int64_t i = 0; i < n; i++) {
      for (int64_t co = 0; co < s->c_out; co++)
        pad_plane (dyp + co * plane, DYP_ROWS (s), DYP_COLS (s),
                   dy + (i * s->c_out + co) * p, s->h_out, s->w_out,
                   s->kh - 1 - s->pad_h, s->kw - 1 - s->pad_w);
      k->corr (dx + i * in, dyp, wf, s->c_out, s->c_in, s->h_in, s->w_in,
               s->kh, s->kw, DYP_ROWS (s), DYP_COLS (s));
    }
    return;
  }
  /* wf[co] (c_in, 1, kh, kw): channel co's kernels turned by 180° */
  for (int64_t co = 0; co < s->c_out; co++)
    for (int64_t ci = 0; ci < s->c_in; ci++)
      for (int64_t t = 0; t < taps; t++)
        wf[(co * s->c_in + ci) * taps + t] =
            w[(co * s->c_in + ci) * taps + taps - 1 - t];
  for (int64_t i = 0; i < n; i++)
    for (int64_t co = 0; co < s->c_out; co++) {
      pad_plane (dyp, DYP_ROWS (s), DYP_COLS (s), dy + (i * s->c_out + co) * p,
                 s->h_out, s->w_out, s->kh - 1 - s->pad_h,
                 s->kw - 1 - s->pad_w);
      k->corr (dx + i * in, dyp, wf + co * s->c_in * taps, 1, s->c_in,
               s->h_in, s->w_in, s->kh, s->kw, DYP_ROWS (s), DYP_COLS (s));
    }
}

gboolean
mmdnn_conv2d_is_direct (const MmdnnConv2dShape *s)
{
  const MmdnnDirectKernels *k = mmdnn_conv_direct_kernels ();

  return s != NULL && k != NULL && mmdnn_conv_direct_forward_ok (k, s) &&
      mmdnn_conv_direct_dw_ok (s);
}

gboolean
mmdnn_conv2d_forward_is_direct (const MmdnnConv2dShape *s)
{
  const MmdnnDirectKernels *k = mmdnn_conv_direct_kernels ();

  return s != NULL && k != NULL && mmdnn_conv_direct_forward_ok (k, s);
}
