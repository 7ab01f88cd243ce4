/* mmdnn — what the fuzz targets share.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every target is one LLVMFuzzerTestOneInput () over one entry point of the
 * core. Built with clang -fsanitize=fuzzer it is a libFuzzer binary (make
 * fuzz); built with any compiler and driver.c it replays files (make check,
 * make check-asan). A target aborts only when the core breaks a promise of
 * its header (an oracle below); a bad input must merely give a GError. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Once per process: silences the core's log (libav chatter, debug lines)
 * so that a fuzzer's output stays readable. */
void fuzz_init (void);

/* (transfer none): the path of a file holding exactly @data, rewritten on
 * every call: a memfd, so no file is left behind and nothing touches the
 * disk. */
const char *fuzz_file (const uint8_t *data, size_t size);

/* (transfer none): the path of @name (no '/') in a temporary folder made
 * once per process; whatever the caller puts there is removed at exit.
 * @name NULL: the folder itself. */
const char *fuzz_tmp_path (const char *name);

/* Whether the model or checkpoint file at @path, if it is one, has inputs
 * no larger than the default model's (3×64×64 video, a 64×100 audio
 * patch, 32×16 text ids). A valid config may ask for a 4096×4096 input,
 * whose activations take gigabytes at batch 1 however few parameters it
 * has: the loader must allocate them, and no check of the file could
 * refuse them (the parameters, in contrast, are bounded by the file's
 * tensors: the loader checks that). So the model and checkpoint targets
 * load only models of at most the default's input size, as an image
 * decoder's fuzzer caps the image size. Anything that is not a readable
 * model file fits, for the loader to refuse. */
gboolean fuzz_model_fits (const char *path);

/* The oracle: a broken promise ends the run with a message and a stack. */
#define fuzz_assert(cond)                                                      \
  G_STMT_START {                                                               \
    if (G_UNLIKELY (!(cond)))                                                  \
      fuzz_fail (__FILE__, __LINE__, #cond);                                   \
  } G_STMT_END

G_GNUC_NORETURN void fuzz_fail (const char *file, int line, const char *what);
