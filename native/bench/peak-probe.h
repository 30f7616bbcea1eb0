// The peak probes of peak-probe.c, as the harness calls them.
#ifndef XNNKLEIDI_BENCH_PEAK_PROBE_H_
#define XNNKLEIDI_BENCH_PEAK_PROBE_H_

#include <stddef.h>

enum xnnkleidi_peak_status {
  xnnkleidi_peak_measured,
  // No probe of that name on this architecture.
  xnnkleidi_peak_unknown,
  // This CPU (or its OS) cannot run the probe's instructions.
  xnnkleidi_peak_unsupported,
  // The CPU has the instructions, but no timed loop is written for them: identified only.
  xnnkleidi_peak_not_timed,
};

// Writes the names of the probes this CPU can run (or identify) into names; returns how many.
size_t xnnkleidi_bench_supported_probes(const char** names, size_t capacity);

// Runs the named probe for about `milliseconds`; on xnnkleidi_peak_measured *gops is the best
// slice's GOP/s. *instruction names what the probe runs whenever the probe is known.
enum xnnkleidi_peak_status xnnkleidi_bench_peak(const char* name, double milliseconds, double* gops,
                                                const char** instruction);

#endif  // XNNKLEIDI_BENCH_PEAK_PROBE_H_
