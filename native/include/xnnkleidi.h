/*
 * xnnkleidi.h: the small C API that libxnnkleidi adds on top of XNNPACK.
 *
 * It answers the questions a binding must ask before it builds a graph:
 * which native build is this, what does XNNPACK see of this CPU, and may the
 * "maybe pack for GEMM" flag be set for a given weight datatype without
 * reaching undefined behaviour.
 */
#ifndef XNNKLEIDI_H_
#define XNNKLEIDI_H_

#include <stdint.h>

#include "xnnpack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a declaration in this header changes meaning or layout. */
#define XNNKLEIDI_ABI_VERSION 5

/* CPU features as XNNPACK's hardware configuration reports them (bit flags). */
enum xnnkleidi_cpu_feature {
  xnnkleidi_cpu_feature_arm_neon = 1 << 0,
  xnnkleidi_cpu_feature_arm_dotprod = 1 << 1,
  xnnkleidi_cpu_feature_arm_i8mm = 1 << 2,
  xnnkleidi_cpu_feature_arm_sve = 1 << 3,
  xnnkleidi_cpu_feature_arm_sve2 = 1 << 4,
  xnnkleidi_cpu_feature_arm_sme = 1 << 5,
  xnnkleidi_cpu_feature_arm_sme2 = 1 << 6,
  xnnkleidi_cpu_feature_arm_bf16 = 1 << 7,
  xnnkleidi_cpu_feature_arm_fp16_arith = 1 << 8,
  xnnkleidi_cpu_feature_x86_avx2 = 1 << 16,
  xnnkleidi_cpu_feature_x86_fma3 = 1 << 17,
  xnnkleidi_cpu_feature_x86_avx512f = 1 << 18,
  xnnkleidi_cpu_feature_x86_avx512skx = 1 << 19,
  xnnkleidi_cpu_feature_x86_avx512vnni = 1 << 20,
  xnnkleidi_cpu_feature_x86_avxvnni = 1 << 21,
  xnnkleidi_cpu_feature_x86_avx512amx = 1 << 22,
  xnnkleidi_cpu_feature_x86_avx256vnni = 1 << 23,
  xnnkleidi_cpu_feature_x86_avxvnniint8 = 1 << 24,
};

/*
 * Whether activation packing (QP8) can run for a weight datatype, and if not,
 * why. The values are ordered from "nothing to do with this CPU" to "ready".
 */
enum xnnkleidi_qp8_support {
  /* The packed-activation GEMM exists in this build and this CPU runs it. */
  xnnkleidi_qp8_available = 0,
  /* KleidiAI is Arm-only and this library was built for another architecture. */
  xnnkleidi_qp8_unavailable_not_arm = 1,
  /* Built for Arm, but without KleidiAI. */
  xnnkleidi_qp8_unavailable_kleidiai_disabled = 2,
  /* The CPU lacks both the dotprod and i8mm extensions the kernels need. */
  xnnkleidi_qp8_unavailable_cpu_lacks_dotprod_i8mm = 3,
  /* This XNNPACK has no QP8 GEMM for that weight datatype (without patch 0003: qcint8). */
  xnnkleidi_qp8_unavailable_no_kernel_for_weights = 4,
  /* The datatype is not a weight datatype that a QD8 fully connected layer takes. */
  xnnkleidi_qp8_unavailable_invalid_weight_datatype = 5,
  /* xnn_initialize failed, so nothing is known about the CPU. */
  xnnkleidi_qp8_unavailable_not_initialized = 6,
  /* The CPU has dotprod or i8mm, but the cap (xnnkleidi_set_max_arm_isa) is neon. */
  xnnkleidi_qp8_unavailable_capped = 7,
};

/*
 * The Arm kernel families, from the least to the most capable. Each includes the
 * ones below it: a CPU with SME2 has SME, i8mm, dotprod and NEON.
 */
enum xnnkleidi_arm_isa {
  /* No cap: XNNPACK uses whatever the CPU and the OS offer. */
  xnnkleidi_arm_isa_unlimited = 0,
  xnnkleidi_arm_isa_neon = 1,
  xnnkleidi_arm_isa_dotprod = 2,
  xnnkleidi_arm_isa_i8mm = 3,
  xnnkleidi_arm_isa_sme = 4,
  xnnkleidi_arm_isa_sme2 = 5,
};

/* The outcome of asking for a cap on the Arm kernel families. */
enum xnnkleidi_cap_status {
  xnnkleidi_cap_ok = 0,
  /* The value names no family (for the environment variable: not one of its names). */
  xnnkleidi_cap_invalid_value = 1,
  /* XNNPACK's hardware configuration was already read; the cap in force stays. */
  xnnkleidi_cap_too_late = 2,
};

/*
 * Caps the Arm kernel families XNNPACK may use, for the whole process: above
 * max_isa, the CPU is treated as lacking SME2, SME, i8mm and dotprod in turn, so
 * a cap lowers the family a layer runs and never raises it. It takes effect when
 * XNNPACK first reads its hardware configuration (xnn_initialize, or any function
 * here that asks about the CPU) and must be set before that; afterwards it returns
 * xnnkleidi_cap_too_late and changes nothing. It takes precedence over the
 * environment variable XNNKLEIDI_MAX_ARM_ISA (sme2, sme, i8mm, dotprod or neon),
 * which is read once, at that same moment. Neither does anything on x86-64.
 */
enum xnnkleidi_cap_status xnnkleidi_set_max_arm_isa(enum xnnkleidi_arm_isa max_isa);

/*
 * The family named by one of XNNKLEIDI_MAX_ARM_ISA's values ("sme2", "sme",
 * "i8mm", "dotprod", "neon"), or xnnkleidi_arm_isa_unlimited for NULL or any other
 * string.
 */
enum xnnkleidi_arm_isa xnnkleidi_parse_arm_isa(const char* name);

/*
 * The cap in force, once XNNPACK's hardware configuration was read (before that,
 * the one that will be applied): xnnkleidi_arm_isa_unlimited when there is none.
 * An invalid XNNKLEIDI_MAX_ARM_ISA applies no cap; then
 * xnnkleidi_max_arm_isa_environment_status() says xnnkleidi_cap_invalid_value.
 */
enum xnnkleidi_arm_isa xnnkleidi_max_arm_isa(void);

/* Whether XNNKLEIDI_MAX_ARM_ISA, as read now, is unset or valid (ok) or invalid. */
enum xnnkleidi_cap_status xnnkleidi_max_arm_isa_environment_status(void);

/*
 * The streaming vector length in bytes (16, 32, 64 for SVL 128, 256, 512 bits)
 * where the CPU and the OS offer SME, whatever the cap; 0 elsewhere, and on
 * builds without KleidiAI. The SME kernels' tiles are multiples of it.
 */
uint32_t xnnkleidi_sme_vector_length_bytes(void);

/* Returns XNNKLEIDI_ABI_VERSION as compiled into the library. */
uint32_t xnnkleidi_abi_version(void);

/*
 * Returns a static, NUL-terminated build description of the form
 * "xnnpack=<commit>;kleidiai=<version>|disabled;arch=<arch>;compiler=<compiler>".
 */
const char* xnnkleidi_build_info(void);

/*
 * Returns the xnnkleidi_cpu_feature bits that XNNPACK's hardware configuration
 * reports. Initializes XNNPACK if needed; returns 0 if that fails.
 */
uint64_t xnnkleidi_cpu_features(void);

/*
 * Says whether a QP8 (packed-activation) GEMM exists in this build, on this CPU,
 * for fully connected weights of the given datatype: xnn_datatype_qcint8,
 * xnn_datatype_qcint4 or xnn_datatype_qbint4. Never crashes, for any input.
 */
enum xnnkleidi_qp8_support xnnkleidi_qp8_support(enum xnn_datatype weight_datatype);

/*
 * The flag to pass to the convert node (fp32 -> qdint8) so that XNNPACK packs
 * the activations for a GEMM with weights of the given datatype, or 0 when
 * xnnkleidi_qp8_support() does not say xnnkleidi_qp8_available. Passing 0 is
 * always safe; passing any other "maybe pack" flag may not be.
 */
uint32_t xnnkleidi_pack_flag_for_weights(enum xnn_datatype weight_datatype);

/*
 * The name of the KleidiAI matmul kernel that a QP8 fully connected layer with
 * weights of the given datatype runs for a batch of batch_size rows on this CPU
 * (a GEMV kernel for one row, a GEMM kernel otherwise), or NULL when
 * xnnkleidi_qp8_support() does not say xnnkleidi_qp8_available. The string is
 * static.
 */
const char* xnnkleidi_qp8_kernel_name(enum xnn_datatype weight_datatype, size_t batch_size);

/*
 * The address of the XNNPACK microkernel that a QP8 fully connected layer with
 * weights of the given datatype calls for a batch of batch_size rows on this CPU:
 * the entry of XNNPACK's QP8 GEMM configuration that its fully connected operator
 * selects when it is reshaped to that batch. NULL when xnnkleidi_qp8_support()
 * does not say xnnkleidi_qp8_available, and for batch_size 0 (XNNPACK runs no
 * kernel then). The kernel is the function whose call xnnkleidi_qp8_kernel_name()
 * names; it is exposed so that a caller can check that name against the library's
 * own code and symbols.
 */
const void* xnnkleidi_qp8_ukernel_address(enum xnn_datatype weight_datatype, size_t batch_size);

/*
 * The address of the XNNPACK microkernel that a fully connected layer with dynamically
 * quantized activations (QD8, not packed) and weights of the given datatype calls for a
 * batch of batch_size rows on this CPU: the entry of XNNPACK's QD8 GEMM configuration
 * that its fully connected operator selects when reshaped to that batch (its 1-row kernel
 * for one row when it has one, else its largest-mr kernel). NULL for a datatype other
 * than qcint8, qcint4 and qbint4, for batch_size 0, and when the configuration has no
 * kernel for this CPU. Exposed so that a caller can check the name against the library's
 * own symbols.
 */
const void* xnnkleidi_qd8_ukernel_address(enum xnn_datatype weight_datatype, size_t batch_size);

/*
 * The name of the microkernel xnnkleidi_qd8_ukernel_address() returns, as XNNPACK spells
 * it (for example "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x16c8__avx512vnni"), matched by
 * address against every QD8 GEMM microkernel XNNPACK declares; NULL when there is no
 * address or it matches none (a name is never guessed). The string is static.
 */
const char* xnnkleidi_qd8_kernel_name(enum xnn_datatype weight_datatype, size_t batch_size);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* XNNKLEIDI_H_ */
