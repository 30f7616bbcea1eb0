// The project's own C API (see include/xnnkleidi.h). It reads XNNPACK's internal
// configuration, so it is compiled against XNNPACK's private headers and linked
// into the same shared library.
#include "xnnkleidi.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cpuinfo.h>

#include "xnnpack.h"
#include "xnnpack/config.h"
#include "xnnpack/hardware-config.h"
#include "xnnpack/internal.h"
#include "xnnpack/microfnptr.h"
#include "xnnpack/gemm.h"

#if XNN_ARCH_ARM64 && XNNKLEIDI_WITH_KLEIDIAI
#include "kai/kai_common.h"
#include "xnnpack/gemm.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4c32p/kai_matmul_clamp_f32_qai8dxp1x8_qsi4c32p4x8_1x4x32_neon_dotprod.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4c32p/kai_matmul_clamp_f32_qai8dxp1x8_qsi4c32p8x8_1x8x32_neon_dotprod.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4c32p/kai_matmul_clamp_f32_qai8dxp4x8_qsi4c32p4x8_16x4x32_neon_i8mm.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4cxp/kai_matmul_clamp_f32_qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4cxp/kai_matmul_clamp_f32_qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp4x4_qsi8cxp4x4_16x4_neon_dotprod.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp4x8_qsi8cxp4x8_16x4_neon_i8mm.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme2_dot.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme2_mopa.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme_dot.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi8cxp/kai_matmul_clamp_f32_qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme_mopa.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4cxp/kai_matmul_clamp_f32_qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme_dot.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4cxp/kai_matmul_clamp_f32_qai8dxp1vlx4_qsi4cxp4vlx4_1vlx4vl_sme_mopa.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4cxp/kai_matmul_clamp_f32_qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme2_sdot.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4cxp/kai_matmul_clamp_f32_qai8dxp1vlx8_qsi4cxp4vlx8_1vlx4vl_sme2_mopa.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4c32p/kai_matmul_clamp_f32_qai8dxp1x4_qsi4c32p4vlx4_1x4vl_sme2_dot.h"
#include "kai/ukernels/matmul/matmul_clamp_f32_qai8dxp_qsi4c32p/kai_matmul_clamp_f32_qai8dxp1vlx4_qsi4c32p4vlx4_1vlx4vl_sme2_mopa.h"
#endif

#ifndef XNNKLEIDI_XNNPACK_COMMIT
#error "XNNKLEIDI_XNNPACK_COMMIT must be defined by the build"
#endif
#ifndef XNNKLEIDI_KLEIDIAI_VERSION
#error "XNNKLEIDI_KLEIDIAI_VERSION must be defined by the build (\"disabled\" when off)"
#endif

#if defined(__aarch64__)
#define XNNKLEIDI_ARCH "aarch64"
#elif defined(__x86_64__)
#define XNNKLEIDI_ARCH "x86_64"
#else
#define XNNKLEIDI_ARCH "unknown"
#endif

#if defined(__clang__)
#define XNNKLEIDI_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define XNNKLEIDI_COMPILER "gcc " __VERSION__
#else
#define XNNKLEIDI_COMPILER "unknown"
#endif

uint32_t xnnkleidi_abi_version(void) { return XNNKLEIDI_ABI_VERSION; }

// ---- The cap on the Arm kernel families ----------------------------------------
// Requested through xnnkleidi_set_max_arm_isa, or read from the environment, and
// applied by XNNPACK's hardware configuration, which calls the hook below once
// (patch 0006) before any kernel configuration reads its flags.
static _Atomic int requested_max_arm_isa = -1;  // -1: not set by a call
static _Atomic int applied_max_arm_isa = -1;    // -1: hardware configuration not read yet

enum xnnkleidi_arm_isa xnnkleidi_parse_arm_isa(const char* name) {
  static const struct {
    const char* name;
    enum xnnkleidi_arm_isa isa;
  } names[] = {
      {"sme2", xnnkleidi_arm_isa_sme2}, {"sme", xnnkleidi_arm_isa_sme},
      {"i8mm", xnnkleidi_arm_isa_i8mm}, {"dotprod", xnnkleidi_arm_isa_dotprod},
      {"neon", xnnkleidi_arm_isa_neon},
  };
  if (name == NULL) {
    return xnnkleidi_arm_isa_unlimited;
  }
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(name, names[i].name) == 0) {
      return names[i].isa;
    }
  }
  return xnnkleidi_arm_isa_unlimited;
}

enum xnnkleidi_cap_status xnnkleidi_max_arm_isa_environment_status(void) {
  const char* value = getenv("XNNKLEIDI_MAX_ARM_ISA");
  if (value == NULL || value[0] == '\0') {
    return xnnkleidi_cap_ok;
  }
  return xnnkleidi_parse_arm_isa(value) == xnnkleidi_arm_isa_unlimited ? xnnkleidi_cap_invalid_value
                                                                       : xnnkleidi_cap_ok;
}

// The cap that will be applied: the call's, else the environment's (none if invalid).
static enum xnnkleidi_arm_isa pending_max_arm_isa(void) {
  const int requested = atomic_load(&requested_max_arm_isa);
  if (requested >= 0) {
    return (enum xnnkleidi_arm_isa) requested;
  }
  return xnnkleidi_parse_arm_isa(getenv("XNNKLEIDI_MAX_ARM_ISA"));
}

enum xnnkleidi_cap_status xnnkleidi_set_max_arm_isa(enum xnnkleidi_arm_isa max_isa) {
  if (max_isa < xnnkleidi_arm_isa_unlimited || max_isa > xnnkleidi_arm_isa_sme2) {
    return xnnkleidi_cap_invalid_value;
  }
  if (atomic_load(&applied_max_arm_isa) >= 0) {
    return xnnkleidi_cap_too_late;
  }
  atomic_store(&requested_max_arm_isa, (int) max_isa);
  return xnnkleidi_cap_ok;
}

enum xnnkleidi_arm_isa xnnkleidi_max_arm_isa(void) {
  const int applied = atomic_load(&applied_max_arm_isa);
  return applied >= 0 ? (enum xnnkleidi_arm_isa) applied : pending_max_arm_isa();
}

// Called by XNNPACK's init_hardware_config (patch 0006), once. It is no part of the
// API: xnnkleidi.h does not declare it, so the export list does not name it.
void xnnkleidi_cap_arm_features(
    bool* use_arm_sme2, bool* use_arm_sme, bool* use_arm_neon_i8mm, bool* use_arm_neon_dot) {
  const enum xnnkleidi_arm_isa cap = pending_max_arm_isa();
  atomic_store(&applied_max_arm_isa, (int) cap);
  if (cap == xnnkleidi_arm_isa_unlimited) {
    return;
  }
  // Only ever clear a flag: a cap never grants what the CPU or the OS lacks.
  if (cap < xnnkleidi_arm_isa_sme2) *use_arm_sme2 = false;
  if (cap < xnnkleidi_arm_isa_sme) *use_arm_sme = false;
  if (cap < xnnkleidi_arm_isa_i8mm) *use_arm_neon_i8mm = false;
  if (cap < xnnkleidi_arm_isa_dotprod) *use_arm_neon_dot = false;
}

const char* xnnkleidi_build_info(void) {
  return "xnnpack=" XNNKLEIDI_XNNPACK_COMMIT
         ";kleidiai=" XNNKLEIDI_KLEIDIAI_VERSION
         ";arch=" XNNKLEIDI_ARCH
         ";compiler=" XNNKLEIDI_COMPILER;
}

// xnn_initialize is idempotent and thread-safe (it runs its body once); the
// hardware configuration is only meaningful after it, because it asks cpuinfo.
static const struct xnn_hardware_config* initialized_hardware_config(void) {
  if (xnn_initialize(/*allocator=*/NULL) != xnn_status_success) {
    return NULL;
  }
#if !XNN_ARCH_ARM64
  // No Arm flags to cap here; the cap is recorded as read all the same, so that
  // a late xnnkleidi_set_max_arm_isa says so on every architecture.
  int unread = -1;
  atomic_compare_exchange_strong(&applied_max_arm_isa, &unread, (int) pending_max_arm_isa());
#endif
  return xnn_init_hardware_config();
}

uint32_t xnnkleidi_sme_vector_length_bytes(void) {
#if XNN_ARCH_ARM64 && XNNKLEIDI_WITH_KLEIDIAI
  // cpuinfo reads the hwcaps the OS sets: without SME, reading the length would
  // be an illegal instruction. It answers for the CPU, not the capped config.
  if (initialized_hardware_config() != NULL && cpuinfo_has_arm_sme()) {
    return (uint32_t) kai_get_sme_vector_length_u8();
  }
#endif
  return 0;
}

uint64_t xnnkleidi_cpu_features(void) {
  const struct xnn_hardware_config* hardware = initialized_hardware_config();
  if (hardware == NULL) {
    return 0;
  }
  uint64_t features = 0;
#if XNN_ARCH_ARM64
  if (hardware->use_arm_neon) features |= xnnkleidi_cpu_feature_arm_neon;
  if (hardware->use_arm_neon_dot) features |= xnnkleidi_cpu_feature_arm_dotprod;
  if (hardware->use_arm_neon_i8mm) features |= xnnkleidi_cpu_feature_arm_i8mm;
  if (hardware->use_arm_sve) features |= xnnkleidi_cpu_feature_arm_sve;
  if (hardware->use_arm_sve2) features |= xnnkleidi_cpu_feature_arm_sve2;
  if (hardware->use_arm_sme) features |= xnnkleidi_cpu_feature_arm_sme;
  if (hardware->use_arm_sme2) features |= xnnkleidi_cpu_feature_arm_sme2;
  if (hardware->use_arm_neon_bf16) features |= xnnkleidi_cpu_feature_arm_bf16;
  if (hardware->use_arm_fp16_arith) features |= xnnkleidi_cpu_feature_arm_fp16_arith;
#elif XNN_ARCH_X86_64
  if (hardware->use_x86_avx2) features |= xnnkleidi_cpu_feature_x86_avx2;
  if (hardware->use_x86_fma3) features |= xnnkleidi_cpu_feature_x86_fma3;
  if (hardware->use_x86_avx512f) features |= xnnkleidi_cpu_feature_x86_avx512f;
  if (hardware->use_x86_avx512skx) features |= xnnkleidi_cpu_feature_x86_avx512skx;
  if (hardware->use_x86_avx512vnni) features |= xnnkleidi_cpu_feature_x86_avx512vnni;
  if (hardware->use_x86_avxvnni) features |= xnnkleidi_cpu_feature_x86_avxvnni;
  if (hardware->use_x86_avx512amx) features |= xnnkleidi_cpu_feature_x86_avx512amx;
  if (hardware->use_x86_avx256vnni) features |= xnnkleidi_cpu_feature_x86_avx256vnni;
  if (hardware->use_x86_avxvnniint8) features |= xnnkleidi_cpu_feature_x86_avxvnniint8;
#endif
  return features;
}

enum xnnkleidi_qp8_support xnnkleidi_qp8_support(enum xnn_datatype weight_datatype) {
  // Validate the datatype before anything else: an unknown value must get an
  // answer, not reach a configuration lookup.
  if (weight_datatype != xnn_datatype_qcint8 &&
      weight_datatype != xnn_datatype_qcint4 &&
      weight_datatype != xnn_datatype_qbint4) {
    return xnnkleidi_qp8_unavailable_invalid_weight_datatype;
  }
#if !XNN_ARCH_ARM64
  return xnnkleidi_qp8_unavailable_not_arm;
#elif !XNNKLEIDI_WITH_KLEIDIAI
  return xnnkleidi_qp8_unavailable_kleidiai_disabled;
#else
  const struct xnn_hardware_config* hardware = initialized_hardware_config();
  if (hardware == NULL) {
    return xnnkleidi_qp8_unavailable_not_initialized;
  }
  if (!hardware->use_arm_neon_dot && !hardware->use_arm_neon_i8mm) {
    // cpuinfo still says what the CPU has; the hardware configuration is capped.
    return (cpuinfo_has_arm_neon_dot() || cpuinfo_has_arm_i8mm())
               ? xnnkleidi_qp8_unavailable_capped
               : xnnkleidi_qp8_unavailable_cpu_lacks_dotprod_i8mm;
  }
  switch (weight_datatype) {
    case xnn_datatype_qcint4:
      // The same test XNNPACK's convert node makes before it packs (subgraph/unary.c).
      return xnn_init_qp8_f32_qc4w_gemm_config() != NULL
                 ? xnnkleidi_qp8_available
                 : xnnkleidi_qp8_unavailable_no_kernel_for_weights;
    case xnn_datatype_qbint4:
      return xnn_init_qp8_f32_qb4w_gemm_config() != NULL
                 ? xnnkleidi_qp8_available
                 : xnnkleidi_qp8_unavailable_no_kernel_for_weights;
    default:
      // qcint8: XNNPACK git 4ea82e5 has no qp8-f32-qc8w GEMM; our patch 0003
      // (native/patches/xnnpack) adds one on KleidiAI's qai8dxp x qsi8cxp kernels.
      return xnn_init_qp8_f32_qc8w_gemm_config() != NULL
                 ? xnnkleidi_qp8_available
                 : xnnkleidi_qp8_unavailable_no_kernel_for_weights;
  }
#endif
}

uint32_t xnnkleidi_pack_flag_for_weights(enum xnn_datatype weight_datatype) {
  if (xnnkleidi_qp8_support(weight_datatype) != xnnkleidi_qp8_available) {
    return 0;
  }
  switch (weight_datatype) {
    case xnn_datatype_qcint4:
      return XNN_FLAG_MAYBE_PACK_FOR_GEMM;
    case xnn_datatype_qbint4:
      return XNN_FLAG_MAYBE_PACK_FOR_QB4W_GEMM;
    case xnn_datatype_qcint8:
      return XNN_FLAG_MAYBE_PACK_FOR_QC8W_GEMM;
    default:
      return 0;
  }
}

// The QP8 GEMM configuration XNNPACK's fully connected operator takes its kernels
// from, for each weight datatype: the same xnn_init_qp8_f32_*_gemm_config() call
// that xnn_create_fully_connected_nc_qp8_f32_{qc8w,qc4w,qb4w} makes.
static const struct xnn_gemm_config* qp8_gemm_config(enum xnn_datatype weight_datatype) {
  switch (weight_datatype) {
    case xnn_datatype_qcint8:
      return xnn_init_qp8_f32_qc8w_gemm_config();
    case xnn_datatype_qcint4:
      return xnn_init_qp8_f32_qc4w_gemm_config();
    case xnn_datatype_qbint4:
      return xnn_init_qp8_f32_qb4w_gemm_config();
    default:
      return NULL;
  }
}

const void* xnnkleidi_qp8_ukernel_address(enum xnn_datatype weight_datatype, size_t batch_size) {
  if (xnnkleidi_qp8_support(weight_datatype) != xnnkleidi_qp8_available) {
    return NULL;
  }
  // An empty batch is skipped by reshape_fully_connected_nc before any kernel is chosen.
  if (batch_size == 0) {
    return NULL;
  }
  const struct xnn_gemm_config* config = qp8_gemm_config(weight_datatype);
  if (config == NULL || config->mr == 0 || config->mr > XNN_MAX_MR) {
    return NULL;
  }
  // This mirrors src/operators/fully-connected-nc.c of the patched XNNPACK:
  // - create_fully_connected_nc stores the config's mr and copies its first mr
  //   kernels; the qp8 create functions pass &config->minmax, except that qc4w and
  //   qb4w switch to config->linear for an unbounded output range when linear has
  //   a kernel at mr. No qp8 config in gemm-config.c fills linear, so minmax it is;
  //   should one ever do, the answer would depend on the output range, which this
  //   function is not given, so it answers nothing rather than guess.
  // - reshape_fully_connected_nc keeps that mr, except that a batch of one row
  //   takes the 1-row kernel when the config has one (mr = 1), and then calls
  //   gemm_cases[mr - 1].function[XNN_UARCH_DEFAULT]. Every uarch slot holds the
  //   same pointer (xnn_init_hmp_qp8gemm_ukernel copies it).
  // In gemm-config.c (and patch 0003 for qc8w) the i8mm configs have mr = 16 (qb4w,
  // qc8w) or 8 (qc4w) plus a 1-row kernel; the dotprod-only 4-bit configs have
  // mr = 1; qc8w on dotprod has mr = 16 plus a 1-row kernel.
  const uint32_t mr = config->mr;
  if (config->linear.gemm[mr - 1].function[XNN_UARCH_DEFAULT] != NULL) {
    return NULL;
  }
  const struct gemm_fused_ukernels* kernels = &config->minmax;
  const bool single_row_kernel = batch_size == 1 && kernels->gemm[0].function[XNN_UARCH_DEFAULT] != NULL;
  const uint32_t selected_mr = single_row_kernel ? 1 : mr;
  return (const void*) kernels->gemm[selected_mr - 1].function[XNN_UARCH_DEFAULT];
}

#if XNN_ARCH_ARM64 && XNNKLEIDI_WITH_KLEIDIAI
// A KleidiAI kernel: its run function, and its name as KleidiAI spells it (the run
// function's name without "run_"). One macro writes both, so they cannot disagree
// and the link proves the function exists.
struct kleidiai_kernel {
  const void* run_function;
  const char* name;
};
#define KLEIDIAI_KERNEL(kernel) {(const void*) kai_run_##kernel, "kai_" #kernel}

// XNNPACK's 4-bit wrappers, each named here so that the link proves it exists, with
// the KleidiAI kernel its source file calls. Not the one its comment names: the
// qb4w wrappers' comments name qsi4cxp kernels and an 8x4x32 GEMM, their code
// calls qsi4c32p kernels and the 16x4x32 GEMM.
// Only the production microkernels are linked, so only those appear.
static const struct {
  const void* wrapper;
  struct kleidiai_kernel kernel;
} xnnpack_qp8_wrappers[] = {
    {(const void*) xnn_qp8_f32_qc4w_gemm_minmax_ukernel_1x8c16s2__aarch64_neondot,
     KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod)},
    {(const void*) xnn_qp8_f32_qc4w_gemm_minmax_ukernel_8x8c16s2__neoni8mm_mstep2,
     KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm)},
    {(const void*) xnn_qp8_f32_qb4w_gemm_minmax_ukernel_1x4c16s2__aarch64_neondot,
     KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x8_qsi4c32p4x8_1x4x32_neon_dotprod)},
    {(const void*) xnn_qp8_f32_qb4w_gemm_minmax_ukernel_1x8c16s2__aarch64_neondot,
     KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x8_qsi4c32p8x8_1x8x32_neon_dotprod)},
    {(const void*) xnn_qp8_f32_qb4w_gemm_minmax_ukernel_16x4c16s2__neoni8mm_mstep4,
     KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp4x8_qsi4c32p4x8_16x4x32_neon_i8mm)},
};

// The adapters of patches 0003 (qc8w), 0005 (SME2 and SME) and 0007 (qc4w SME2) are static
// functions of gemm-config.c, so no name of theirs can be written here. Each is a
// tail call into one of these KleidiAI kernels, and the adapter's branch target is
// read from its code.
static const struct {
  enum xnn_datatype weight_datatype;
  struct kleidiai_kernel kernel;
} kleidiai_adapted_kernels[] = {
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp4x4_qsi8cxp4x4_16x4_neon_dotprod)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp4x8_qsi8cxp4x8_16x4_neon_i8mm)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme2_dot)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme2_mopa)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme_dot)},
    {xnn_datatype_qcint8, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme_mopa)},
    {xnn_datatype_qcint4, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme_dot)},
    {xnn_datatype_qcint4, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1vlx4_qsi4cxp4vlx4_1vlx4vl_sme_mopa)},
    {xnn_datatype_qcint4, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme2_sdot)},
    {xnn_datatype_qcint4, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1vlx8_qsi4cxp4vlx8_1vlx4vl_sme2_mopa)},
    {xnn_datatype_qbint4, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1x4_qsi4c32p4vlx4_1x4vl_sme2_dot)},
    {xnn_datatype_qbint4, KLEIDIAI_KERNEL(matmul_clamp_f32_qai8dxp1vlx4_qsi4c32p4vlx4_1vlx4vl_sme2_mopa)},
};
#undef KLEIDIAI_KERNEL

// The target of the first direct branch (B or BL) in the code at `function`, or
// NULL if an indirect branch or a return comes first or none is found within
// `max_instructions`. The adapters are a few loads and one branch; .text is
// readable on Linux, so reading the instruction words is safe.
static const void* first_direct_branch_target(const void* function, size_t max_instructions) {
  const uint32_t* instructions = (const uint32_t*) function;
  for (size_t i = 0; i < max_instructions; i++) {
    const uint32_t instruction = instructions[i];
    // B and BL: bits 31..26 are 000101 or 100101, imm26 counts words from this instruction.
    if ((instruction & UINT32_C(0x7C000000)) == UINT32_C(0x14000000)) {
      int64_t words = (int64_t) (instruction & UINT32_C(0x03FFFFFF));
      if (words & (INT64_C(1) << 25)) {
        words -= INT64_C(1) << 26;
      }
      return (const void*) ((uintptr_t) &instructions[i] + (uintptr_t) (words * 4));
    }
    // BR, BLR, RET and their pointer-authenticated forms: the unconditional
    // branch (register) class, bits 31..25 = 1101011.
    if ((instruction & UINT32_C(0xFE000000)) == UINT32_C(0xD6000000)) {
      return NULL;
    }
  }
  return NULL;
}
#endif  // XNN_ARCH_ARM64 && XNNKLEIDI_WITH_KLEIDIAI

const char* xnnkleidi_qp8_kernel_name(enum xnn_datatype weight_datatype, size_t batch_size) {
  const void* wrapper = xnnkleidi_qp8_ukernel_address(weight_datatype, batch_size);
  if (wrapper == NULL) {
    return NULL;
  }
#if XNN_ARCH_ARM64 && XNNKLEIDI_WITH_KLEIDIAI
  for (size_t i = 0; i < sizeof xnnpack_qp8_wrappers / sizeof xnnpack_qp8_wrappers[0]; i++) {
    if (xnnpack_qp8_wrappers[i].wrapper == wrapper) {
      return xnnpack_qp8_wrappers[i].kernel.name;
    }
  }
  const void* target = first_direct_branch_target(wrapper, /*max_instructions=*/16);
  for (size_t i = 0; i < sizeof kleidiai_adapted_kernels / sizeof kleidiai_adapted_kernels[0]; i++) {
    if (target != NULL && kleidiai_adapted_kernels[i].weight_datatype == weight_datatype &&
        kleidiai_adapted_kernels[i].kernel.run_function == target) {
      return kleidiai_adapted_kernels[i].kernel.name;
    }
  }
#endif
  // A kernel this map does not know: no name rather than a guess.
  return NULL;
}

// ---- QD8: which XNNPACK microkernel runs ---------------------------------------------

// The QD8 GEMM configuration that xnn_create_fully_connected_nc_qd8_f32_{qc8w,qc4w,qb4w}
// takes its kernels from.
static const struct xnn_gemm_config* qd8_gemm_config(enum xnn_datatype weight_datatype) {
  switch (weight_datatype) {
    case xnn_datatype_qcint8:
      return xnn_init_qd8_f32_qc8w_gemm_config();
    case xnn_datatype_qcint4:
      return xnn_init_qd8_f32_qc4w_gemm_config();
    case xnn_datatype_qbint4:
      return xnn_init_qd8_f32_qb4w_gemm_config();
    default:
      return NULL;
  }
}

// The kernel of `mr` rows in `kernels`: blockwise (qb4w) configs fill the dqgemm_bl member
// of the union, the channelwise ones dqgemm.
static const void* qd8_gemm_kernel(const struct gemm_fused_ukernels* kernels, enum xnn_datatype weight_datatype, uint32_t mr) {
  return weight_datatype == xnn_datatype_qbint4
      ? (const void*) kernels->dqgemm_bl[mr - 1].function[XNN_UARCH_DEFAULT]
      : (const void*) kernels->dqgemm[mr - 1].function[XNN_UARCH_DEFAULT];
}

const void* xnnkleidi_qd8_ukernel_address(enum xnn_datatype weight_datatype, size_t batch_size) {
  if (weight_datatype != xnn_datatype_qcint8 && weight_datatype != xnn_datatype_qcint4 &&
      weight_datatype != xnn_datatype_qbint4) {
    return NULL;
  }
  // An empty batch is skipped by reshape_fully_connected_nc before any kernel is chosen.
  if (batch_size == 0 || initialized_hardware_config() == NULL) {
    return NULL;
  }
  const struct xnn_gemm_config* config = qd8_gemm_config(weight_datatype);
  if (config == NULL || config->mr == 0 || config->mr > XNN_MAX_MR) {
    return NULL;
  }
  // This mirrors src/operators/fully-connected-nc.c: the qd8 create functions copy the
  // first mr kernels of config->minmax, or of config->linear for an unbounded output range
  // when linear has a kernel at mr. No qd8 config fills linear; should one ever do, the
  // answer would depend on the output range, which this function is not given, so it
  // answers nothing rather than guess. reshape_fully_connected_nc then takes the 1-row
  // kernel for one row when there is one, else the kernel at mr.
  const uint32_t mr = config->mr;
  if (qd8_gemm_kernel(&config->linear, weight_datatype, mr) != NULL) {
    return NULL;
  }
  const bool single_row_kernel = batch_size == 1 && qd8_gemm_kernel(&config->minmax, weight_datatype, 1) != NULL;
  return qd8_gemm_kernel(&config->minmax, weight_datatype, single_row_kernel ? 1 : mr);
}

#if defined(__ELF__) || defined(_WIN32)
// Every QD8 GEMM microkernel XNNPACK's gemm.h declares (listed by the build from that
// header into qd8-gemm-ukernels.inc). On ELF they are referenced weakly: a kernel this build
// does not link resolves to NULL, and one it links to its address. PE has no such weak
// reference, so there the build lists only the kernels its production sources define, and
// they are referenced (and so linked) strongly. The names come from XNNPACK's declarations,
// not from a table of which CPU gets which kernel.
#define XNNKLEIDI_HAS_QD8_UKERNEL_NAMES 1
#if defined(__ELF__)
#define XNNKLEIDI_PRAGMA(text) _Pragma(#text)
#define XNNKLEIDI_QD8_GEMM_UKERNEL(name) XNNKLEIDI_PRAGMA(weak name)
#include "qd8-gemm-ukernels.inc"
#undef XNNKLEIDI_QD8_GEMM_UKERNEL
#endif

static const struct {
  const void* address;
  const char* name;
} qd8_gemm_ukernels[] = {
#define XNNKLEIDI_QD8_GEMM_UKERNEL(name) {(const void*) name, #name},
#include "qd8-gemm-ukernels.inc"
#undef XNNKLEIDI_QD8_GEMM_UKERNEL
};
#endif  // defined(__ELF__) || defined(_WIN32)

const char* xnnkleidi_qd8_kernel_name(enum xnn_datatype weight_datatype, size_t batch_size) {
  const void* address = xnnkleidi_qd8_ukernel_address(weight_datatype, batch_size);
  if (address == NULL) {
    return NULL;
  }
#if defined(XNNKLEIDI_HAS_QD8_UKERNEL_NAMES)
  for (size_t i = 0; i < sizeof qd8_gemm_ukernels / sizeof qd8_gemm_ukernels[0]; i++) {
    if (qd8_gemm_ukernels[i].address == address) {
      return qd8_gemm_ukernels[i].name;
    }
  }
#endif
  // A kernel the list does not know (or an object format other than ELF and PE): no name
  // rather than a guess.
  return NULL;
}
