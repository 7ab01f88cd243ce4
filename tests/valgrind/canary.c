/* mmdnn — faults that `make check-valgrind` must report (test-canary.sh):
 * with its options and suppressions memcheck has to see each of these
 * in a GStreamer process, or the run proves nothing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <gst/gst.h>

/* volatile: the compiler must neither warn about nor drop the faults */
static volatile int sink;
static volatile gsize size = 16;

int
main (int argc, char **argv)
{
  const char *what = argc > 1 ? argv[1] : "";

  gst_init (&argc, &argv);
  if (strcmp (what, "clean") == 0) {
    gst_buffer_unref (gst_buffer_new_allocate (NULL, 64, NULL));
  } else if (strcmp (what, "leak") == 0) {
    GstBuffer *b = gst_buffer_new_allocate (NULL, 64, NULL);

    b = NULL;                   /* the only reference, dropped */
    sink = b != NULL;
  } else if (strcmp (what, "read") == 0) {
    guint8 *p = g_malloc (size);

    sink = p[size];             /* one past the end */
    g_free (p);
  } else if (strcmp (what, "write") == 0) {
    guint8 *p = g_malloc (16);

    g_free (p);
    p[0] = 1;                   /* after free */
  } else if (strcmp (what, "cond") == 0) {
    guint8 *p = g_malloc (16);

    if (p[3] > 7)               /* never written */
      sink = 1;
    g_free (p);
  } else {
    g_printerr ("usage: %s clean|leak|read|write|cond\n", argv[0]);
    return 2;
  }
  gst_deinit ();
  return 0;
}
