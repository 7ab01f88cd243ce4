/* mmdnn — tensors and parameter slabs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <mmdnn/error.h>

G_BEGIN_DECLS

#define MMDNN_MAX_DIMS 4

/* Largest number of elements one tensor may hold: keeps every byte count
 * and every index product far from int64 overflow. */
#define MMDNN_MAX_NUMEL (INT64_C (1) << 40)

/* A dense float32 tensor: contiguous, row-major, shape outermost first, e.g.
 * (N, C, H, W). This is NumPy's and PyTorch's order — not ggml's, whose ne[0]
 * is the innermost dimension. */
typedef struct {
  float   *data;
  int64_t  shape[MMDNN_MAX_DIMS];
  int      ndim;
  int64_t  numel;
  gboolean owns_data;           /* FALSE for a view into someone else's memory */
} MmdnnTensor;

/* Checks a shape (1 ≤ ndim ≤ MMDNN_MAX_DIMS, every size ≥ 1, product ≤
 * MMDNN_MAX_NUMEL) and returns the element count, or -1 with @error set. */
MMDNN_API int64_t mmdnn_shape_numel (int ndim, const int64_t *shape,
                                     GError **error);

/* Aligned (64 bytes), zero-filled float storage; free with mmdnn_floats_free.
 * Returns NULL with @error set when n is out of range or memory runs out. */
MMDNN_API float *mmdnn_floats_new (int64_t n, GError **error);
MMDNN_API void   mmdnn_floats_free (float *p);

/* (transfer full): a new zero-filled tensor. */
MMDNN_API MmdnnTensor *mmdnn_tensor_new (int ndim, const int64_t *shape,
                                         GError **error);
/* (transfer full): a tensor header over @data (transfer none), which must
 * hold the shape's element count and outlive the view. */
MMDNN_API MmdnnTensor *mmdnn_tensor_new_view (float *data, int ndim,
                                              const int64_t *shape,
                                              GError **error);
MMDNN_API void         mmdnn_tensor_free (MmdnnTensor *t);
/* A new shape with the same element count; data untouched. */
MMDNN_API gboolean     mmdnn_tensor_reshape (MmdnnTensor *t, int ndim,
                                             const int64_t *shape,
                                             GError **error);
MMDNN_API gboolean     mmdnn_tensor_same_shape (const MmdnnTensor *a,
                                                const MmdnnTensor *b);

/* One trainable parameter: a named view into the slabs of its set. Names
 * follow PyTorch's state_dict ("video.proj.weight") so model files read the
 * same in both. */
typedef struct {
  char    *name;
  float   *value;               /* into set->values, valid once allocated */
  float   *grad;                /* same offset into set->grads            */
  int64_t  shape[MMDNN_MAX_DIMS];
  int      ndim;
  int64_t  numel;
  int64_t  offset;              /* in floats from the start of the slab   */
  gboolean decay;               /* weight decay applies (not to biases, norms) */
} MmdnnParam;

/* All parameters of a model in one contiguous slab, their gradients in a
 * second with the same layout (llm.c's layout): an optimiser step is a flat
 * loop, an all-reduce is one call, a model file maps one-to-one onto it.
 * Built in two passes: declare every parameter, then allocate once. */
typedef struct {
  GPtrArray  *params;           /* MmdnnParam*, in declaration order */
  GHashTable *by_name;          /* name → MmdnnParam* (borrowed)     */
  float      *values;
  float      *grads;
  int64_t     numel;
  gboolean    allocated;
} MmdnnParamSet;

MMDNN_API MmdnnParamSet *mmdnn_param_set_new (void);
MMDNN_API void           mmdnn_param_set_free (MmdnnParamSet *ps);

/* (transfer none): declares a parameter; its value/grad pointers become
 * valid after mmdnn_param_set_allocate (). Fails on a duplicate or empty
 * name, a bad shape, or a set already allocated. */
MMDNN_API MmdnnParam *mmdnn_param_set_declare (MmdnnParamSet *ps,
                                               const char *name, int ndim,
                                               const int64_t *shape,
                                               gboolean decay, GError **error);
/* Allocates both slabs (zero-filled) and points every parameter into them.
 * Offsets are rounded up to 16 floats so every parameter is 64-byte aligned. */
MMDNN_API gboolean    mmdnn_param_set_allocate (MmdnnParamSet *ps,
                                                GError **error);
/* Declares a layer's parameters: "<prefix>.weight" of @wshape and, when
 * @bias_len > 0, "<prefix>.bias" of (bias_len). Weight decay applies to the
 * weight when @weight_decay, never to the bias. Both names are checked
 * before either is declared, so a failure leaves the set as it was. @what
 * names the layer kind in messages. @bias may be NULL when bias_len is 0. */
MMDNN_API gboolean    mmdnn_param_set_declare_layer (MmdnnParamSet *ps,
                                                     const char *what,
                                                     const char *prefix,
                                                     int wndim,
                                                     const int64_t *wshape,
                                                     gboolean weight_decay,
                                                     int64_t bias_len,
                                                     MmdnnParam **weight,
                                                     MmdnnParam **bias,
                                                     GError **error);
MMDNN_API MmdnnParam *mmdnn_param_set_lookup (const MmdnnParamSet *ps,
                                              const char *name);
MMDNN_API void        mmdnn_param_set_zero_grad (MmdnnParamSet *ps);

G_END_DECLS
