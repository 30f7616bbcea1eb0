// The CPU's measured peaks: for each int8 dot-product (and fp32 FMA) instruction family
// this core has, a tight, register-resident loop with enough independent accumulators to
// hide the instruction's latency. Nothing touches memory inside the loop, so each result
// is an upper bound that a GEMM of that family, which must also load, pack and quantize,
// can approach but not pass.
//
// Ops are counted as a GEMM counts them: one multiply-add is two operations.
//
// Every probe is named; the CLI asks for the ones it selects from the library's CPU
// features, and this file checks the CPU (and, for AMX, the OS) again before it runs an
// instruction: a probe this core cannot run answers "unsupported", never SIGILL.
#include "peak-probe.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#ifndef HWCAP2_SME2
#define HWCAP2_SME2 (1UL << 37)
#endif
#endif

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

// Each probe runs `iterations` rounds of 12 independent instruction chains and returns a
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

// vpdpbusd ymm (AVX-VNNI, VEX-encoded): 8 lanes x 4 = 32 multiply-adds.
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

// The multiply-add steps of GEMMs without a dot-product instruction. The multiplications do
// not depend on the accumulators (as in a GEMM, where they depend on loaded data), so they
// are bound by throughput, not latency; written as instructions because a compiler would
// hoist a product of loop-invariant registers out of the loop. %%REG0-11 accumulate,
// REG14 and REG15 are the operands, REG13 the product, REG12 the int16 ones.
#define MADD_STEP(W, i) "vpmaddwd %%" W "14, %%" W "15, %%" W "13\n\tvpaddd %%" W "13, %%" W #i ", %%" W #i "\n\t"
#define MADDUBS_STEP(i)                                                                   \
  "vpmaddubsw %%ymm15, %%ymm14, %%ymm13\n\tvpmaddwd %%ymm12, %%ymm13, %%ymm13\n\t" \
  "vpaddd %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
#define STEPS12(STEP, ...)                                                                                   \
  STEP(__VA_ARGS__ 0) STEP(__VA_ARGS__ 1) STEP(__VA_ARGS__ 2) STEP(__VA_ARGS__ 3) STEP(__VA_ARGS__ 4)        \
  STEP(__VA_ARGS__ 5) STEP(__VA_ARGS__ 6) STEP(__VA_ARGS__ 7) STEP(__VA_ARGS__ 8) STEP(__VA_ARGS__ 9) \
  STEP(__VA_ARGS__ 10) STEP(__VA_ARGS__ 11)
#define YMM_CLOBBERS \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
  "xmm13", "xmm14", "xmm15"

// vpmaddwd ymm then vpaddd: 8 lanes x 2 int16 products = 16 multiply-adds, the inner step
// of XNNPACK's AVX2 qd8 kernels (int8 sign-extended to int16).
__attribute__((target("avx2"))) static int64_t probe_avx2_vpmaddwd(int64_t iterations) {
  __asm__ volatile("vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\tvpabsw %%ymm14, %%ymm15\n\t" ::: YMM_CLOBBERS);
  for (int64_t it = 0; it < iterations; it++) {
    __asm__ volatile(STEPS12(MADD_STEP, "ymm", ) ::: YMM_CLOBBERS);
  }
  return iterations;
}

// vpmaddubsw ymm, vpmaddwd ymm by ones, vpaddd: 8 lanes x 4 u8*s8 products = 32
// multiply-adds, the int16-saturating u8*s8 step of AVX2 GEMMs without VNNI.
__attribute__((target("avx2"))) static int64_t probe_avx2_vpmaddubsw(int64_t iterations) {
  __asm__ volatile(
      "vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\tvpabsb %%ymm14, %%ymm15\n\tvpabsw %%ymm14, %%ymm12\n\t" ::: YMM_CLOBBERS);
  for (int64_t it = 0; it < iterations; it++) {
    __asm__ volatile(STEPS12(MADDUBS_STEP, ) ::: YMM_CLOBBERS);
  }
  return iterations;
}

// vpmaddwd zmm then vpaddd (AVX512BW): 16 lanes x 2 = 32 multiply-adds, the step of
// XNNPACK's avx512skx qd8 kernels.
__attribute__((target("avx512f,avx512bw"))) static int64_t probe_avx512bw_vpmaddwd(int64_t iterations) {
  __asm__ volatile("vpternlogd $0xff, %%zmm14, %%zmm14, %%zmm14\n\tvpabsw %%zmm14, %%zmm15\n\t" ::: YMM_CLOBBERS);
  for (int64_t it = 0; it < iterations; it++) {
    __asm__ volatile(STEPS12(MADD_STEP, "zmm", ) ::: YMM_CLOBBERS);
  }
  return iterations;
}

// AMX-INT8: tdpbssd multiplies a 16x64 int8 tile by a 64x16 int8 tile (stored as 16 rows of
// 16 groups of 4) into 16x16 int32: 16384 multiply-adds. Four accumulator tiles, the same
// two source tiles. Written as instructions (the assembler knows them) because compiler
// intrinsics for tiles need AMX enabled for the whole file.
static int64_t probe_amx_int8(int64_t iterations) {
  struct __attribute__((aligned(64))) {
    uint8_t palette, start_row, reserved[14];
    uint16_t columns_bytes[16];
    uint8_t rows[16];
  } config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 6; t++) {
    config.columns_bytes[t] = 64;
    config.rows[t] = 16;
  }
  static int8_t sources[2][16][64];
  memset(sources, 1, sizeof sources);
  static int32_t result[16][16];
  __asm__ volatile(
      "ldtilecfg %0\n\t"
      "tilezero %%tmm0\n\ttilezero %%tmm1\n\ttilezero %%tmm2\n\ttilezero %%tmm3\n\t"
      "tileloadd (%1,%2,1), %%tmm4\n\t"
      "tileloadd (%3,%2,1), %%tmm5\n\t"
      :
      : "m"(config), "r"(&sources[0][0][0]), "r"((int64_t) 64), "r"(&sources[1][0][0])
      : "memory");
  for (int64_t it = 0; it < iterations; it++) {
    __asm__ volatile(
        "tdpbssd %%tmm5, %%tmm4, %%tmm0\n\t"
        "tdpbssd %%tmm5, %%tmm4, %%tmm1\n\t"
        "tdpbssd %%tmm5, %%tmm4, %%tmm2\n\t"
        "tdpbssd %%tmm5, %%tmm4, %%tmm3\n\t" ::
            : "memory");
  }
  __asm__ volatile(
      "tilestored %%tmm0, (%0,%1,1)\n\t"
      "tilerelease\n\t"
      :
      : "r"(&result[0][0]), "r"((int64_t) 64)
      : "memory");
  return result[0][0];
}

// The OS must have enabled the register state (XCR0) for AVX (bits 1-2), AVX-512 (5-7)
// and AMX tiles (17-18), or the instructions fault although CPUID lists them.
static uint64_t xcr0(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0;  // OSXSAVE
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t) hi << 32) | lo;
}

static int has_amx_int8(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  const int tile = (edx >> 24) & 1, int8 = (edx >> 25) & 1;
  if (!tile || !int8 || (xcr0() & 0x60000) != 0x60000) return 0;
  // Linux hands out the tile data state only on request (ARCH_REQ_XCOMP_PERM, XTILEDATA).
  return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}
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

// One named probe: what it runs, how many multiply-adds one step of one chain does, and
// whether this CPU can run it. A probe without a function is identified, never timed.
struct probe {
  const char* name;
  const char* instruction;
  probe_fn function;
  double multiply_adds_per_step;
  int (*supported)(void);
};

#if defined(__x86_64__)
static int os_avx(void) { return (xcr0() & 0x6) == 0x6; }
static int os_avx512(void) { return (xcr0() & 0xe6) == 0xe6; }
static int cpu_avx512vnni(void) {
  return os_avx512() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
}
static int cpu_avx512vnni_ymm(void) { return cpu_avx512vnni() && __builtin_cpu_supports("avx512vl"); }
static int cpu_avxvnni(void) {
  unsigned eax, ebx, ecx, edx;
  // CPUID.(7,1):EAX bit 4 is AVX-VNNI; GCC 12's __builtin_cpu_supports knows it as "avxvnni" too.
  return os_avx() && __builtin_cpu_supports("avx2") && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) &&
         ((eax >> 4) & 1);
}
static int cpu_avx2(void) { return os_avx() && __builtin_cpu_supports("avx2"); }
static int cpu_avx2_fma(void) { return cpu_avx2() && __builtin_cpu_supports("fma"); }
static int cpu_avx512bw(void) {
  return os_avx512() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
static int cpu_avx512f(void) { return os_avx512() && __builtin_cpu_supports("avx512f"); }

static const struct probe probes[] = {
    {"amx-int8", "tdpbssd(AMX-INT8)", probe_amx_int8, 16.0 * 16.0 * 64.0 * 4.0 / 12.0, has_amx_int8},
    {"avx512vnni-zmm", "vpdpbusd-zmm(AVX512-VNNI)", probe_avx512vnni, 64.0, cpu_avx512vnni},
    {"avx512vnni-ymm", "vpdpbusd-ymm(AVX512-VNNI)", probe_avx512vnni_ymm, 32.0, cpu_avx512vnni_ymm},
    {"avxvnni", "vpdpbusd-ymm(AVX-VNNI)", probe_avxvnni, 32.0, cpu_avxvnni},
    {"avx512bw-vpmaddwd", "vpmaddwd-zmm(AVX512BW)", probe_avx512bw_vpmaddwd, 32.0, cpu_avx512bw},
    {"avx2-vpmaddubsw", "vpmaddubsw+vpmaddwd-ymm(AVX2)", probe_avx2_vpmaddubsw, 32.0, cpu_avx2},
    {"avx2-vpmaddwd", "vpmaddwd-ymm(AVX2)", probe_avx2_vpmaddwd, 16.0, cpu_avx2},
    {"avx512f-fma", "vfmadd231ps-zmm(AVX512F)", probe_avx512_fma, 16.0, cpu_avx512f},
    {"fma3", "vfmadd231ps-ymm(FMA3)", probe_avx2_fma, 8.0, cpu_avx2_fma},
};
#elif defined(__aarch64__)
static int cpu_neon(void) { return 1; }
static int cpu_sdot(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }
static int cpu_smmla(void) { return (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0; }
static int cpu_sme2(void) { return (getauxval(AT_HWCAP2) & HWCAP2_SME2) != 0; }

static const struct probe probes[] = {
    {"sme2-mopa", "smopa(SME2)", NULL, 0.0, cpu_sme2},
    {"smmla", "smmla(i8mm)", probe_smmla, 32.0, cpu_smmla},
    {"sdot", "sdot(dotprod)", probe_sdot, 16.0, cpu_sdot},
    {"neon-fmla", "fmla-4s(NEON)", probe_neon_fma, 4.0, cpu_neon},
};
#else
static const struct probe probes[] = {{"none", "", NULL, 0.0, NULL}};
#endif

#define PROBE_COUNT (sizeof probes / sizeof probes[0])

volatile int64_t xnnkleidi_bench_peak_sink;

// Runs the probe for about `milliseconds` in slices and returns the best slice's
// GOP/s (the peak is what the core can do when nothing disturbs it).
static double measure(probe_fn probe, double multiply_adds_per_step, double milliseconds) {
  int64_t iterations = 16;
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
    const double gops = 2.0 * multiply_adds_per_step * 12.0 * (double) iterations / elapsed * 1e-9;
    if (gops > best) best = gops;
  } while (seconds_now() < deadline);
  return best;
}

static const struct probe* find(const char* name) {
  for (size_t i = 0; i < PROBE_COUNT; i++) {
    if (probes[i].supported != NULL && strcmp(probes[i].name, name) == 0) return &probes[i];
  }
  return NULL;
}

size_t xnnkleidi_bench_supported_probes(const char** names, size_t capacity) {
#if defined(__x86_64__)
  __builtin_cpu_init();
#endif
  size_t count = 0;
  for (size_t i = 0; i < PROBE_COUNT; i++) {
    if (probes[i].supported != NULL && probes[i].supported() && count < capacity) names[count++] = probes[i].name;
  }
  return count;
}

enum xnnkleidi_peak_status xnnkleidi_bench_peak(const char* name, double milliseconds, double* gops,
                                                const char** instruction) {
#if defined(__x86_64__)
  __builtin_cpu_init();
#endif
  const struct probe* probe = find(name);
  if (probe == NULL) return xnnkleidi_peak_unknown;
  *instruction = probe->instruction;
  if (!probe->supported()) return xnnkleidi_peak_unsupported;
  if (probe->function == NULL) return xnnkleidi_peak_not_timed;
  *gops = measure(probe->function, probe->multiply_adds_per_step, milliseconds);
  return xnnkleidi_peak_measured;
}
