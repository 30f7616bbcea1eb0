// The CPU's measured peak: a tight, register-resident loop of the widest int8
// dot-product (or fp32 FMA) instruction this core has, with enough independent
// accumulators to hide the instruction's latency. Nothing touches memory inside the
// loop, so the result is an upper bound that a GEMM, which must also load, pack and
// quantize, can approach but not pass.
//
// Ops are counted as a GEMM counts them: one multiply-add is two operations.
#include <stdint.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#endif

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

// Each probe runs `iterations` rounds of 12 independent instructions and returns a
// value derived from the accumulators, so that the compiler keeps the work.
typedef int64_t (*probe_fn)(int64_t iterations);

#define REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

// Defines `static int64_t NAME(int64_t iterations)`, compiled for TARGET: the 12
// accumulators PROBE_DECLARE_NAME(i) declares; each round applies PROBE_STEP_NAME(i) to all
// 12; the result adds up PROBE_SUM_NAME(i) (in TOTAL_TYPE), so the compiler keeps the work.
#define DEFINE_PROBE(NAME, TARGET, TOTAL_TYPE)                              \
  __attribute__((target(TARGET))) static int64_t NAME(int64_t iterations) { \
    REPEAT12(PROBE_DECLARE_##NAME)                                          \
    for (int64_t it = 0; it < iterations; it++) {                           \
      REPEAT12(PROBE_STEP_##NAME)                                           \
    }                                                                       \
    TOTAL_TYPE total = 0;                                                   \
    REPEAT12(PROBE_SUM_##NAME)                                              \
    return (int64_t) total;                                                 \
  }

#if defined(__x86_64__)
// vpdpbusd zmm: 16 lanes x 4 u8*s8 products = 64 multiply-adds.
#define PROBE_DECLARE_probe_avx512vnni(i) __m512i acc##i = _mm512_set1_epi32(i);
#define PROBE_STEP_probe_avx512vnni(i) acc##i = _mm512_dpbusd_epi32(acc##i, _mm512_set1_epi8(3), _mm512_set1_epi8(-2));
#define PROBE_SUM_probe_avx512vnni(i) total += _mm512_reduce_add_epi32(acc##i);
DEFINE_PROBE(probe_avx512vnni, "avx512f,avx512vnni", int64_t)

// vpdpbusd ymm (AVX512-VNNI with AVX512VL): 8 lanes x 4 = 32 multiply-adds. Some cores
// (AMD Zen 4 splits zmm into two 256-bit halves) issue two of these per cycle, others one.
#define PROBE_DECLARE_probe_avx512vnni_ymm(i) __m256i acc##i = _mm256_set1_epi32(i);
#define PROBE_STEP_probe_avx512vnni_ymm(i) acc##i = _mm256_dpbusd_epi32(acc##i, _mm256_set1_epi8(3), _mm256_set1_epi8(-2));
#define PROBE_SUM_probe_avx512vnni_ymm(i) total += _mm256_extract_epi32(acc##i, 0);
DEFINE_PROBE(probe_avx512vnni_ymm, "avx512f,avx512vl,avx512vnni", int64_t)

// vpdpbusd ymm (AVX-VNNI): 8 lanes x 4 = 32 multiply-adds.
#define PROBE_DECLARE_probe_avxvnni(i) __m256i acc##i = _mm256_set1_epi32(i);
#define PROBE_STEP_probe_avxvnni(i) acc##i = _mm256_dpbusd_avx_epi32(acc##i, _mm256_set1_epi8(3), _mm256_set1_epi8(-2));
#define PROBE_SUM_probe_avxvnni(i) total += _mm256_extract_epi32(acc##i, 0);
DEFINE_PROBE(probe_avxvnni, "avx2,avxvnni", int64_t)

// vfmadd zmm: 16 fp32 multiply-adds.
#define PROBE_DECLARE_probe_avx512_fma(i) __m512 acc##i = _mm512_set1_ps((float) i);
#define PROBE_STEP_probe_avx512_fma(i) acc##i = _mm512_fmadd_ps(acc##i, _mm512_set1_ps(0.999f), _mm512_set1_ps(1e-7f));
#define PROBE_SUM_probe_avx512_fma(i) total += (double) _mm512_reduce_add_ps(acc##i);
DEFINE_PROBE(probe_avx512_fma, "avx512f", double)

// vfmadd ymm: 8 fp32 multiply-adds.
#define PROBE_DECLARE_probe_avx2_fma(i) __m256 acc##i = _mm256_set1_ps((float) i);
#define PROBE_STEP_probe_avx2_fma(i) acc##i = _mm256_fmadd_ps(acc##i, _mm256_set1_ps(0.999f), _mm256_set1_ps(1e-7f));
#define PROBE_SUM_probe_avx2_fma(i) total += (double) _mm_cvtss_f32(_mm256_castps256_ps128(acc##i));
DEFINE_PROBE(probe_avx2_fma, "avx2,fma", double)
#endif

#if defined(__aarch64__)
// SDOT (vector): 4 lanes x 4 s8*s8 products = 16 multiply-adds.
#define PROBE_DECLARE_probe_sdot(i) int32x4_t acc##i = vdupq_n_s32(i);
#define PROBE_STEP_probe_sdot(i) acc##i = vdotq_s32(acc##i, vdupq_n_s8(3), vdupq_n_s8(-2));
#define PROBE_SUM_probe_sdot(i) total += vaddvq_s32(acc##i);
DEFINE_PROBE(probe_sdot, "arch=armv8.2-a+dotprod", int64_t)

// SMMLA: a 2x8 by 8x2 int8 matrix product = 32 multiply-adds.
#define PROBE_DECLARE_probe_smmla(i) int32x4_t acc##i = vdupq_n_s32(i);
#define PROBE_STEP_probe_smmla(i) acc##i = vmmlaq_s32(acc##i, vdupq_n_s8(3), vdupq_n_s8(-2));
#define PROBE_SUM_probe_smmla(i) total += vaddvq_s32(acc##i);
DEFINE_PROBE(probe_smmla, "arch=armv8.2-a+i8mm", int64_t)

// FMLA (vector): 4 fp32 multiply-adds.
#define PROBE_DECLARE_probe_neon_fma(i) float32x4_t acc##i = vdupq_n_f32((float) i);
#define PROBE_STEP_probe_neon_fma(i) acc##i = vfmaq_f32(vdupq_n_f32(1e-7f), acc##i, vdupq_n_f32(0.999f));
#define PROBE_SUM_probe_neon_fma(i) total += (double) vaddvq_f32(acc##i);
DEFINE_PROBE(probe_neon_fma, "arch=armv8-a", double)
#endif

volatile int64_t xnnkleidi_bench_peak_sink;

// Runs the probe for about `milliseconds` in slices and returns the best slice's
// GOP/s (the peak is what the core can do when nothing disturbs it).
static double measure(probe_fn probe, double multiply_adds_per_instruction, double milliseconds) {
  int64_t iterations = 1000;
  // Grow the slice until it takes about a millisecond, so the clock reads do not count.
  for (;;) {
    const double start = seconds_now();
    xnnkleidi_bench_peak_sink = probe(iterations);
    if (seconds_now() - start > 1e-3 || iterations > ((int64_t) 1 << 40)) break;
    iterations *= 2;
  }
  double best = 0.0;
  const double deadline = seconds_now() + milliseconds * 1e-3;
  do {
    const double start = seconds_now();
    xnnkleidi_bench_peak_sink = probe(iterations);
    const double elapsed = seconds_now() - start;
    const double gops = 2.0 * multiply_adds_per_instruction * 12.0 * (double) iterations / elapsed * 1e-9;
    if (gops > best) best = gops;
  } while (seconds_now() < deadline);
  return best;
}

// kind: "int8" or "fp32". Returns GOP/s and names the instruction, or 0 if this CPU
// has no instruction the probe knows.
double xnnkleidi_bench_peak(const char* kind, double milliseconds, const char** instruction) {
  const int int8 = strcmp(kind, "int8") == 0;
  if (!int8 && strcmp(kind, "fp32") != 0) return 0.0;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (int8) {
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) {
      // The peak is the better of the two widths: which one a core issues faster differs.
      const double zmm = measure(probe_avx512vnni, 64.0, milliseconds / 2);
      const double ymm = measure(probe_avx512vnni_ymm, 32.0, milliseconds / 2);
      *instruction = zmm >= ymm ? "vpdpbusd-zmm(AVX512-VNNI)" : "vpdpbusd-ymm(AVX512-VNNI)";
      return zmm >= ymm ? zmm : ymm;
    }
    if (__builtin_cpu_supports("avxvnni")) {
      *instruction = "vpdpbusd-ymm(AVX-VNNI)";
      return measure(probe_avxvnni, 32.0, milliseconds);
    }
    return 0.0;
  }
  if (__builtin_cpu_supports("avx512f")) {
    *instruction = "vfmadd231ps-zmm(AVX512F)";
    return measure(probe_avx512_fma, 16.0, milliseconds);
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    *instruction = "vfmadd231ps-ymm(FMA3)";
    return measure(probe_avx2_fma, 8.0, milliseconds);
  }
  return 0.0;
#elif defined(__aarch64__)
  if (int8) {
    if (getauxval(AT_HWCAP2) & HWCAP2_I8MM) {
      *instruction = "smmla(i8mm)";
      return measure(probe_smmla, 32.0, milliseconds);
    }
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) {
      *instruction = "sdot(dotprod)";
      return measure(probe_sdot, 16.0, milliseconds);
    }
    return 0.0;
  }
  *instruction = "fmla-4s(NEON)";
  return measure(probe_neon_fma, 4.0, milliseconds);
#else
  (void) milliseconds;
  (void) instruction;
  return 0.0;
#endif
}
