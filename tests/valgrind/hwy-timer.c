/* Preloaded into the processes the memcheck run starts (tests/valgrind/
 * README.md). libhwy (libavcodec → libjxl → libhwy) measures its timer's
 * resolution in a load-time constructor with RDTSCP, an instruction
 * valgrind decodes only when CPUID says the CPU has it; virtual machines
 * often run it without saying so, and the process then dies of SIGILL
 * before main. The constructor calls hwy::platform::TimerResolution ()
 * through the PLT, so this definition replaces it. The value is only used
 * by libhwy's own benchmarking helpers, which nothing here calls. */
#include <stdint.h>

uint64_t _ZN3hwy8platform15TimerResolutionEv (void);

uint64_t
_ZN3hwy8platform15TimerResolutionEv (void)
{
  return 1;
}
