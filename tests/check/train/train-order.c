/* train-order SEED N: the order in which `mmdnn train --seed SEED
 * --val-fraction 0` visits the N clips of a data set in its first epoch,
 * one clip index per line. test-train-pipelines.sh lays a data set out so
 * that this order is the order of its windows in time: the trainer in a
 * pipeline then sees the same samples in the same batches as the CLI.
 *
 * The two lines below repeat tools/cli-train.c (epoch_seed () and the
 * shuffle of the training clips, which are all the clips, in order, when
 * no validation split is held out): if the CLI changes its order, the
 * equality test fails instead of passing by chance.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <mmdnn/rng.h>

static uint64_t
epoch_seed (uint64_t seed, int64_t e)
{
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (uint64_t) e + 0x632be59bd9b4e019ULL;

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int
main (int argc, char **argv)
{
  MmdnnRng rng;
  int64_t n, *perm;

  if (argc != 3 || (n = strtoll (argv[2], NULL, 10)) < 1) {
    fprintf (stderr, "usage: train-order SEED N\n");
    return 2;
  }
  perm = malloc (sizeof (int64_t) * (size_t) n);
  for (int64_t i = 0; i < n; i++)
    perm[i] = i;
  mmdnn_rng_init (&rng, epoch_seed (strtoull (argv[1], NULL, 10), 0));
  mmdnn_rng_shuffle (&rng, perm, n);
  for (int64_t i = 0; i < n; i++)
    printf ("%lld\n", (long long) perm[i]);
  free (perm);
  return 0;
}
