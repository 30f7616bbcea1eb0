// C smoke test of libxnnkleidi.so, linked against the shared library as a user would.
//
// For qc8w, qc4w and qb4w weights it builds the graph
//   fp32 input -> convert to qdint8 -> fully connected -> fp32 output,
// once without and once with the "maybe pack" flag (only where the library says a
// QP8 kernel exists), then asserts
//   * what xnnkleidi_qp8_support() answers for the CPU model named on the command line,
//   * the KleidiAI kernel xnnkleidi_qp8_kernel_name() names for M = 1, 2, 17 and 197,
//   * the operator names the runtime reports (XNN_FLAG_BASIC_PROFILING),
//   * the outputs against a plain double-precision reference computed from the
//     dequantized weights, within a bound derived from the activation quantization step.
//
// Usage: xnnkleidi-smoke-test <x64|max|max,sme=off|cortex-a76|cortex-a72>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xnnkleidi.h"
#include "pthreadpool.h"
#include "xnnpack.h"

enum scheme { scheme_qc8w, scheme_qc4w, scheme_qb4w };
static const char* const scheme_names[] = {"qc8w", "qc4w", "qb4w"};
static const char* const scheme_kernel_tags[] = {"QC8W", "QC4W", "QB4W"};
static const enum xnn_datatype scheme_datatypes[] = {xnn_datatype_qcint8, xnn_datatype_qcint4, xnn_datatype_qbint4};

static int failures = 0;
static int checks = 0;

#define CHECK(condition, ...)                         \
  do {                                                \
    checks++;                                         \
    if (!(condition)) {                               \
      failures++;                                     \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                   \
      fprintf(stderr, "\n");                          \
    }                                                 \
  } while (0)

// Deterministic pseudo-random numbers, so that a failure can be reproduced.
static uint32_t rng_state = 0x12345678u;
static float uniform(float lo, float hi) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return lo + (hi - lo) * (float) (rng_state >> 8) / (float) (1u << 24);
}

// fp32 -> bf16 by truncation is fine here: the reference reads the value back
// from the same bf16 bits, so it dequantizes exactly what XNNPACK sees.
static uint16_t to_bf16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return (uint16_t) (bits >> 16);
}
static float from_bf16(uint16_t value) {
  uint32_t bits = (uint32_t) value << 16;
  float result;
  memcpy(&result, &bits, sizeof result);
  return result;
}

struct layer {
  size_t m, k, n, block_size;
  float* input;              // m*k, followed by XNN_EXTRA_BYTES of padding
  float* bias;               // n
  float* dequantized;        // n*k, what the quantized weights stand for
  int8_t* qc8w;              // n*k
  uint8_t* packed_nibbles;   // n*k/2 (k even), low nibble first
  float* channel_scales;     // n
  uint16_t* block_scales;    // n*(k/block_size), bf16
};

static void make_layer(struct layer* layer, enum scheme scheme, size_t m, size_t k, size_t n) {
  memset(layer, 0, sizeof *layer);
  layer->m = m; layer->k = k; layer->n = n; layer->block_size = 32;
  layer->input = calloc(m * k * sizeof(float) + XNN_EXTRA_BYTES, 1);
  layer->bias = calloc(n, sizeof(float));
  layer->dequantized = calloc(n * k, sizeof(float));
  layer->qc8w = calloc(n * k, 1);
  layer->packed_nibbles = calloc(n * k / 2 + 1, 1);
  layer->channel_scales = calloc(n, sizeof(float));
  layer->block_scales = calloc(n * (k / layer->block_size + 1), sizeof(uint16_t));
  for (size_t i = 0; i < m * k; i++) layer->input[i] = uniform(-2.0f, 2.0f);
  for (size_t i = 0; i < n; i++) layer->bias[i] = uniform(-1.0f, 1.0f);
  for (size_t row = 0; row < n; row++) {
    layer->channel_scales[row] = uniform(0.01f, 0.05f);
    for (size_t col = 0; col < k; col++) {
      const size_t index = row * k + col;
      switch (scheme) {
        case scheme_qc8w: {
          const int8_t q = (int8_t) (int) uniform(-127.0f, 127.99f);
          layer->qc8w[index] = q;
          layer->dequantized[index] = (float) q * layer->channel_scales[row];
          break;
        }
        case scheme_qc4w:
        case scheme_qb4w: {
          const uint8_t q = (uint8_t) (int) uniform(0.0f, 15.99f);
          if (col % 2 == 0) {
            layer->packed_nibbles[index / 2] = q;
          } else {
            layer->packed_nibbles[index / 2] |= (uint8_t) (q << 4);
          }
          float scale;
          if (scheme == scheme_qc4w) {
            scale = layer->channel_scales[row];
          } else {
            const size_t block = row * (k / layer->block_size) + col / layer->block_size;
            if (col % layer->block_size == 0) layer->block_scales[block] = to_bf16(uniform(0.01f, 0.05f));
            scale = from_bf16(layer->block_scales[block]);
          }
          layer->dequantized[index] = (float) ((int) q - 8) * scale;
          break;
        }
      }
    }
  }
}

static void free_layer(struct layer* layer) {
  free(layer->input); free(layer->bias); free(layer->dequantized); free(layer->qc8w);
  free(layer->packed_nibbles); free(layer->channel_scales); free(layer->block_scales);
}

// Runs the graph; writes the output and the reported operator names ("a|b").
// With `transposed_weights` (qc4w only) the weights are given K x N, rows of ceil(N/2) bytes, under
// XNN_FLAG_TRANSPOSE_WEIGHTS.
static enum xnn_status run_graph_with(const struct layer* layer, enum scheme scheme, uint32_t convert_flags,
                                      bool transposed_weights, pthreadpool_t threadpool, float* output, char* names,
                                      size_t names_size) {
  xnn_subgraph_t subgraph = NULL;
  xnn_runtime_t runtime = NULL;
  enum xnn_status status = xnn_create_subgraph(/*external_value_ids=*/2, 0, &subgraph);
  if (status != xnn_status_success) return status;

  const size_t input_dims[2] = {layer->m, layer->k};
  const size_t weight_dims[2] = {layer->n, layer->k};
  const size_t transposed_dims[2] = {layer->k, layer->n};
  uint8_t* kxn_nibbles = NULL;
  if (transposed_weights) {
    const size_t row_bytes = (layer->n + 1) / 2;
    kxn_nibbles = calloc(layer->k * row_bytes + 1, 1);
    if (kxn_nibbles == NULL) return xnn_status_out_of_memory;
    for (size_t row = 0; row < layer->n; row++) {
      for (size_t col = 0; col < layer->k; col++) {
        const size_t index = row * layer->k + col;
        const uint8_t q = (uint8_t) ((layer->packed_nibbles[index / 2] >> (4 * (index % 2))) & 0xF);
        kxn_nibbles[col * row_bytes + row / 2] |= (uint8_t) (q << (4 * (row % 2)));
      }
    }
  }
  const size_t bias_dims[1] = {layer->n};
  const size_t output_dims[2] = {layer->m, layer->n};
  uint32_t input_id, quantized_id, weight_id, bias_id, output_id;

  status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, input_dims, NULL, 0,
                                   XNN_VALUE_FLAG_EXTERNAL_INPUT, &input_id);
  if (status == xnn_status_success)
    status = xnn_define_dynamically_quantized_tensor_value(subgraph, xnn_datatype_qdint8, 2, 1, input_dims,
                                                           XNN_INVALID_VALUE_ID, 0, &quantized_id);
  if (status == xnn_status_success) {
    switch (scheme) {
      case scheme_qc8w:
        status = xnn_define_channelwise_quantized_tensor_value_v2(
            subgraph, xnn_datatype_qcint8, 0, layer->channel_scales, 2, 0, weight_dims, layer->qc8w,
            XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
      case scheme_qc4w:
        status = xnn_define_channelwise_quantized_tensor_value_v2(
            subgraph, xnn_datatype_qcint4, 8, layer->channel_scales, 2, transposed_weights ? 1 : 0,
            transposed_weights ? transposed_dims : weight_dims,
            transposed_weights ? (const void*) kxn_nibbles : (const void*) layer->packed_nibbles,
            XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
      case scheme_qb4w:
        status = xnn_define_blockwise_quantized_tensor_value(
            subgraph, xnn_datatype_qbint4, 8, layer->block_scales, 2, 0, layer->block_size, weight_dims,
            layer->packed_nibbles, XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
    }
  }
  if (status == xnn_status_success)
    status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 1, bias_dims, layer->bias, XNN_INVALID_VALUE_ID,
                                     0, &bias_id);
  if (status == xnn_status_success)
    status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, output_dims, NULL, 1,
                                     XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &output_id);
  if (status == xnn_status_success)
    status = xnn_define_unary(subgraph, xnn_unary_convert, NULL, input_id, quantized_id, convert_flags);
  if (status == xnn_status_success)
    status = xnn_define_fully_connected(subgraph, -INFINITY, INFINITY, quantized_id, weight_id, bias_id, output_id,
                                        transposed_weights ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0);
  if (status == xnn_status_success)
    status = xnn_create_runtime_v3(subgraph, NULL, threadpool, XNN_FLAG_BASIC_PROFILING, &runtime);
  if (status == xnn_status_success) status = xnn_reshape_external_value(runtime, 0, 2, input_dims);
  if (status == xnn_status_success) status = xnn_reshape_runtime(runtime);
  if (status == xnn_status_success) {
    const struct xnn_external_value externals[2] = {{0, layer->input}, {1, output}};
    status = xnn_setup_runtime_v2(runtime, 2, externals);
  }
  if (status == xnn_status_success) status = xnn_invoke_runtime(runtime);

  names[0] = '\0';
  if (status == xnn_status_success) {
    size_t operator_count = 0, written = 0;
    status = xnn_get_runtime_profiling_info(runtime, xnn_profile_info_num_operators, sizeof operator_count,
                                            &operator_count, &written);
    char buffer[1024];
    if (status == xnn_status_success)
      status = xnn_get_runtime_profiling_info(runtime, xnn_profile_info_operator_name, sizeof buffer, buffer,
                                              &written);
    // The names come back as operator_count NUL-terminated strings, one after another.
    const char* name = buffer;
    for (size_t i = 0; status == xnn_status_success && i < operator_count; i++) {
      if (i > 0) strncat(names, "|", names_size - strlen(names) - 1);
      strncat(names, name, names_size - strlen(names) - 1);
      name += strlen(name) + 1;
    }
  }
  if (runtime != NULL) xnn_delete_runtime(runtime);
  xnn_delete_subgraph(subgraph);
  free(kxn_nibbles);
  return status;
}

static enum xnn_status run_graph(const struct layer* layer, enum scheme scheme, uint32_t convert_flags,
                                 pthreadpool_t threadpool, float* output, char* names, size_t names_size) {
  return run_graph_with(layer, scheme, convert_flags, false, threadpool, output, names, names_size);
}

static void check_numerics(const struct layer* layer, const float* output, const char* label) {
  for (size_t row = 0; row < layer->m; row++) {
    const float* x = layer->input + row * layer->k;
    // Dynamic quantization maps each input row asymmetrically onto int8 with the
    // step (max - min) / 255 (the range always includes 0). Each element is off by at
    // most one step (half a step of rounding plus half a step from rounding the zero
    // point), so the error of an output is at most step * sum_k |w_nk|, plus fp32
    // accumulation error, bounded by 1e-5 * sum_k |x_k| * |w_nk|.
    float lo = 0.0f, hi = 0.0f;
    for (size_t col = 0; col < layer->k; col++) {
      lo = fminf(lo, x[col]);
      hi = fmaxf(hi, x[col]);
    }
    const double step = ((double) hi - (double) lo) / 255.0;
    for (size_t channel = 0; channel < layer->n; channel++) {
      const float* w = layer->dequantized + channel * layer->k;
      double expected = layer->bias[channel], sum_abs_w = 0.0, sum_abs_xw = 0.0;
      for (size_t col = 0; col < layer->k; col++) {
        expected += (double) x[col] * (double) w[col];
        sum_abs_w += fabs((double) w[col]);
        sum_abs_xw += fabs((double) x[col] * (double) w[col]);
      }
      const double tolerance = step * sum_abs_w + 1e-5 * sum_abs_xw + 1e-6;
      const double actual = output[row * layer->n + channel];
      CHECK(fabs(actual - expected) <= tolerance, "%s: output[%zu][%zu] = %.6f, reference %.6f, tolerance %.6f",
            label, row, channel, actual, expected, tolerance);
    }
  }
}

// What each QEMU model offers: `max` SME2, SME, i8mm and dotprod; `max,sme=off`
// i8mm and dotprod; `cortex-a76` only dotprod; `cortex-a72` neither.
static bool model_is_max(const char* cpu_model) { return strncmp(cpu_model, "max", 3) == 0; }
static bool model_has_sme2(const char* cpu_model) {
  return model_is_max(cpu_model) && strstr(cpu_model, "sme=off") == NULL;
}

static bool qp8_expected(const char* cpu_model) {
  // XNNPACK 4ea82e5 has QP8 GEMMs for qc4w and qb4w on Arm CPUs with dotprod or i8mm, and
  // none on x86-64 (KleidiAI is Arm-only); patch 0003 adds qc8w on the same CPUs.
  return model_is_max(cpu_model) || strcmp(cpu_model, "cortex-a76") == 0;
}

static enum xnnkleidi_qp8_support expected_support(const char* cpu_model) {
  if (strcmp(cpu_model, "x64") == 0) return xnnkleidi_qp8_unavailable_not_arm;
  if (strcmp(cpu_model, "cortex-a72") == 0) return xnnkleidi_qp8_unavailable_cpu_lacks_dotprod_i8mm;
  return xnnkleidi_qp8_available;
}

// The KleidiAI kernel each CPU model must select, read from the QP8 configs in
// gemm-config.c (qc8w: patch 0003; SME2 and SME: patches 0005 and 0007) and the call
// in each wrapper's source. SME2 first, then i8mm,
// then dotprod. One row runs the config's 1-row kernel; more rows its largest-mr
// kernel, which the dotprod 4-bit configs lack (mr 1).
static const char* expected_kernel(enum scheme scheme, const char* cpu_model, size_t batch_size) {
  if (!qp8_expected(cpu_model)) return NULL;
  const bool sme2 = model_has_sme2(cpu_model);
  const bool i8mm = model_is_max(cpu_model);
  const bool one_row = batch_size == 1;
  switch (scheme) {
    case scheme_qc8w:
      if (sme2) {
        return one_row ? "kai_matmul_clamp_f32_qai8dxp1x4_qsi8cxp4vlx4_1x4vl_sme2_dot"
                       : "kai_matmul_clamp_f32_qai8dxp1vlx4_qsi8cxp4vlx4_1vlx4vl_sme2_mopa";
      }
      if (one_row) {
        return i8mm ? "kai_matmul_clamp_f32_qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod"
                    : "kai_matmul_clamp_f32_qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod";
      }
      return i8mm ? "kai_matmul_clamp_f32_qai8dxp4x8_qsi8cxp4x8_16x4_neon_i8mm"
                  : "kai_matmul_clamp_f32_qai8dxp4x4_qsi8cxp4x4_16x4_neon_dotprod";
    case scheme_qc4w:
      if (sme2) {
        return one_row ? "kai_matmul_clamp_f32_qai8dxp1x4_qsi4cxp4vlx4_1x4vl_sme2_sdot"
                       : "kai_matmul_clamp_f32_qai8dxp1vlx8_qsi4cxp4vlx8_1vlx4vl_sme2_mopa";
      }
      return i8mm && !one_row ? "kai_matmul_clamp_f32_qai8dxp4x8_qsi4cxp8x8_8x8x32_neon_i8mm"
                              : "kai_matmul_clamp_f32_qai8dxp1x8_qsi4cxp8x8_1x8x32_neon_dotprod";
    case scheme_qb4w:
      if (sme2) {
        return one_row ? "kai_matmul_clamp_f32_qai8dxp1x4_qsi4c32p4vlx4_1x4vl_sme2_dot"
                       : "kai_matmul_clamp_f32_qai8dxp1vlx4_qsi4c32p4vlx4_1vlx4vl_sme2_mopa";
      }
      if (!i8mm) return "kai_matmul_clamp_f32_qai8dxp1x8_qsi4c32p8x8_1x8x32_neon_dotprod";
      return one_row ? "kai_matmul_clamp_f32_qai8dxp1x8_qsi4c32p4x8_1x4x32_neon_dotprod"
                     : "kai_matmul_clamp_f32_qai8dxp4x8_qsi4c32p4x8_16x4x32_neon_i8mm";
  }
  return NULL;
}

static bool same_name(const char* actual, const char* expected) {
  if (actual == NULL || expected == NULL) return actual == expected;
  return strcmp(actual, expected) == 0;
}

// Runs one layer with the given flag and checks the operators and the numbers.
static void run_and_check_with(struct layer* layer, enum scheme scheme, uint32_t convert_flags, bool transposed_weights,
                               bool expect_packed, pthreadpool_t threadpool, const char* label) {
  float* output = calloc(layer->m * layer->n + 1, sizeof(float));
  char names[512], expected_names[256];
  const enum xnn_status status =
      run_graph_with(layer, scheme, convert_flags, transposed_weights, threadpool, output, names, sizeof names);
  CHECK(status == xnn_status_success, "%s: status %d", label, (int) status);
  if (status == xnn_status_success) {
    const char* activation = expect_packed ? "QP8" : "QD8";
    if (layer->m == 0) {
      // An empty batch runs nothing, so there is no output to compare.
      expected_names[0] = '\0';
    } else {
      snprintf(expected_names, sizeof expected_names, "Convert (NC, F32, %s)|Fully Connected (NC, %s, F32, %s) GEMM",
               activation, activation, scheme_kernel_tags[scheme]);
      CHECK(strcmp(names, expected_names) == 0, "%s: operators '%s', expected '%s'", label, names, expected_names);
    }
    printf("%-44s %s\n", label, names);
    check_numerics(layer, output, label);
  }
  free(output);
}

static void run_and_check(struct layer* layer, enum scheme scheme, uint32_t convert_flags, bool expect_packed,
                          pthreadpool_t threadpool, const char* label) {
  run_and_check_with(layer, scheme, convert_flags, false, expect_packed, threadpool, label);
}

// The qc8w packed path of patch 0003 over the shapes that stress it: K below, at
// and far above KleidiAI's 32-element K padding, odd K, N below and above the
// kernels' n step (4), M = 1 (GEMV) and M above the 16-row GEMM tile, 1 and 2 threads.
static void check_qc8w_grid(pthreadpool_t two_threads) {
  const uint32_t pack_flag = xnnkleidi_pack_flag_for_weights(xnn_datatype_qcint8);
  const size_t ms[] = {1, 3, 17, 197};
  const size_t ks[] = {4, 13, 768};
  const size_t ns[] = {1, 5, 3072};
  for (size_t mi = 0; mi < 4; mi++) {
    for (size_t ki = 0; ki < 3; ki++) {
      for (size_t ni = 0; ni < 3; ni++) {
        struct layer layer;
        make_layer(&layer, scheme_qc8w, ms[mi], ks[ki], ns[ni]);
        for (int threads = 1; threads <= 2; threads++) {
          char label[128];
          snprintf(label, sizeof label, "qc8w grid %zux%zux%zu %d thread%s %s", layer.m, layer.k, layer.n, threads,
                   threads == 1 ? "" : "s", pack_flag ? "packed" : "unpacked");
          run_and_check(&layer, scheme_qc8w, pack_flag, pack_flag != 0, threads == 1 ? NULL : two_threads, label);
        }
        free_layer(&layer);
      }
    }
  }
}

int main(int argc, char** argv) {
  if (argc != 2 || (strcmp(argv[1], "x64") != 0 && strcmp(argv[1], "max") != 0 &&
                    strcmp(argv[1], "max,sme=off") != 0 && strcmp(argv[1], "cortex-a76") != 0 &&
                    strcmp(argv[1], "cortex-a72") != 0)) {
    fprintf(stderr, "usage: %s <x64|max|max,sme=off|cortex-a76|cortex-a72>\n", argv[0]);
    return 2;
  }
  const char* cpu_model = argv[1];
  printf("build: %s\n", xnnkleidi_build_info());
  printf("cpu features: 0x%llx\n", (unsigned long long) xnnkleidi_cpu_features());
  CHECK(xnnkleidi_abi_version() == XNNKLEIDI_ABI_VERSION, "ABI version %u, header says %d",
        xnnkleidi_abi_version(), XNNKLEIDI_ABI_VERSION);
  CHECK(xnn_initialize(NULL) == xnn_status_success, "xnn_initialize failed");

  // Datatypes that are not weight datatypes get an answer, not a crash.
  CHECK(xnnkleidi_qp8_support(xnn_datatype_fp32) == xnnkleidi_qp8_unavailable_invalid_weight_datatype,
        "fp32 must be rejected as a weight datatype");
  CHECK(xnnkleidi_qp8_support((enum xnn_datatype) 12345) == xnnkleidi_qp8_unavailable_invalid_weight_datatype,
        "an out-of-range datatype must be rejected");
  CHECK(xnnkleidi_qp8_kernel_name(xnn_datatype_fp32, 1) == NULL, "fp32 has no QP8 kernel");
  CHECK(xnnkleidi_qp8_ukernel_address(xnn_datatype_fp32, 1) == NULL, "fp32 has no QP8 microkernel");
  pthreadpool_t two_threads = pthreadpool_create(2);
  CHECK(two_threads != NULL, "pthreadpool_create(2) failed");

  const size_t shapes[][3] = {{1, 64, 24}, {5, 96, 17}, {17, 256, 40}};
  for (int scheme = scheme_qc8w; scheme <= scheme_qb4w; scheme++) {
    const enum xnnkleidi_qp8_support support = xnnkleidi_qp8_support(scheme_datatypes[scheme]);
    CHECK(support == expected_support(cpu_model), "%s on %s: qp8 support %d, expected %d",
          scheme_names[scheme], cpu_model, (int) support, (int) expected_support(cpu_model));
    const uint32_t pack_flag = xnnkleidi_pack_flag_for_weights(scheme_datatypes[scheme]);
    CHECK((pack_flag != 0) == qp8_expected(cpu_model), "%s on %s: pack flag 0x%x", scheme_names[scheme],
          cpu_model, pack_flag);
    const size_t kernel_batches[] = {1, 2, 17, 197};
    for (size_t b = 0; b < sizeof kernel_batches / sizeof kernel_batches[0]; b++) {
      const size_t m = kernel_batches[b];
      const char* kernel = xnnkleidi_qp8_kernel_name(scheme_datatypes[scheme], m);
      const char* expected = expected_kernel((enum scheme) scheme, cpu_model, m);
      CHECK(same_name(kernel, expected), "%s M=%zu on %s: kernel %s, expected %s", scheme_names[scheme], m,
            cpu_model, kernel ? kernel : "(none)", expected ? expected : "(none)");
      CHECK((xnnkleidi_qp8_ukernel_address(scheme_datatypes[scheme], m) != NULL) == qp8_expected(cpu_model),
            "%s M=%zu on %s: microkernel address presence", scheme_names[scheme], m, cpu_model);
    }
    // XNNPACK skips an empty batch before it picks a kernel.
    CHECK(xnnkleidi_qp8_ukernel_address(scheme_datatypes[scheme], 0) == NULL, "%s: M=0 has no microkernel",
          scheme_names[scheme]);
    // The QD8 kernel has a name on every CPU and object format, and it names the scheme's own kernel family:
    // "xnn_qd8_f32_<scheme>_gemm_minmax_ukernel_...".
    for (size_t b = 0; b < sizeof kernel_batches / sizeof kernel_batches[0]; b++) {
      const size_t m = kernel_batches[b];
      const char* qd8 = xnnkleidi_qd8_kernel_name(scheme_datatypes[scheme], m);
      char prefix[64];
      snprintf(prefix, sizeof prefix, "xnn_qd8_f32_%s_gemm_minmax_ukernel_", scheme_names[scheme]);
      CHECK(qd8 != NULL && strncmp(qd8, prefix, strlen(prefix)) == 0, "%s M=%zu on %s: QD8 kernel %s, expected %s...",
            scheme_names[scheme], m, cpu_model, qd8 ? qd8 : "(none)", prefix);
    }

    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      struct layer layer;
      make_layer(&layer, scheme, shapes[s][0], shapes[s][1], shapes[s][2]);
      for (int packed = 0; packed <= 1; packed++) {
        // Only ever pass a flag the library handed out.
        if (packed && pack_flag == 0) continue;
        char label[128];
        snprintf(label, sizeof label, "%s %zux%zux%zu %s", scheme_names[scheme], layer.m, layer.k, layer.n,
                 packed ? "packed" : "unpacked");
        run_and_check(&layer, (enum scheme) scheme, packed ? pack_flag : 0, packed != 0, NULL, label);
        // qc4w weights given K x N (rows of ceil(N/2) bytes, the layout KleidiAI's K x N packers read): on
        // SME2 the packer of its kernels reads N x K only, so patch 0007 transposes them first; on i8mm and
        // dotprod KleidiAI's own K x N packer runs. Packed only: XNNPACK's QD8 packer reads another K x N
        // layout when N is odd (5x96x17 fails against the reference with these rows), a path XnnKleidi,
        // which always passes N x K, never takes.
        if (scheme == scheme_qc4w && packed) {
          snprintf(label, sizeof label, "%s %zux%zux%zu %s, weights K x N", scheme_names[scheme], layer.m, layer.k,
                   layer.n, packed ? "packed" : "unpacked");
          run_and_check_with(&layer, (enum scheme) scheme, packed ? pack_flag : 0, true, packed != 0, NULL, label);
        }
      }
      free_layer(&layer);
    }
  }

  // A packed input whose layout does not match the weights (the case that crashed
  // XNNPACK 4ea82e5: qc8w weights behind the qc4w flag) is refused with
  // xnn_status_invalid_parameter when the graph is defined.
  if (qp8_expected(cpu_model)) {
    const uint32_t qc4w_flag = xnnkleidi_pack_flag_for_weights(xnn_datatype_qcint4);
    const uint32_t qc8w_flag = xnnkleidi_pack_flag_for_weights(xnn_datatype_qcint8);
    struct layer layer;
    char names[512];
    make_layer(&layer, scheme_qc8w, 5, 64, 8);
    float* output = calloc(5 * 8, sizeof(float));
    enum xnn_status status = run_graph(&layer, scheme_qc8w, qc4w_flag, NULL, output, names, sizeof names);
    CHECK(status == xnn_status_invalid_parameter, "qc8w weights behind the qc4w flag: status %d", (int) status);
    free_layer(&layer);
    make_layer(&layer, scheme_qc4w, 5, 64, 8);
    status = run_graph(&layer, scheme_qc4w, qc8w_flag, NULL, output, names, sizeof names);
    CHECK(status == xnn_status_invalid_parameter, "qc4w weights behind the qc8w flag: status %d", (int) status);
    free_layer(&layer);
    free(output);
  }

  check_qc8w_grid(two_threads);
  pthreadpool_destroy(two_threads);
  printf("%s: %d checks, %d failed\n", cpu_model, checks, failures);
  return failures == 0 ? 0 : 1;
}
