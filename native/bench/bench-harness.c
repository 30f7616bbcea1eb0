// xnnkleidi-bench: the native half of `xnnkleidi bench --compare native,peak`.
//
// It runs the same XNNPACK graph as the managed binding's Linear
//   fp32 input [1, K] reshaped to [M, K] -> convert to qdint8 (maybe-pack flag)
//   -> fully connected -> fp32 output
// (or a plain fp32 fully connected layer for the f32 scheme), created with the runtime
// flags the CLI reads from that Linear (Linear.NativeRuntimeFlags), on a thread pool of the
// same size, with the same timing loop: one clock read before and one after each call,
// nothing else inside. The managed CLI starts it as a child process and alternates batches
// of managed and native calls, so that machine drift (frequency, noisy neighbours) falls on
// both sides alike.
//
// Protocol: one request per line on stdin, one answer line on stdout, which starts
// with "ok" or "error". Numbers are decimal.
//   hello                                    -> ok <protocol> <build info>
//   layer <slot> <scheme> <m> <k> <n> <block> <pack 0|1> <threads> <seed> <runtime flags>
//                                            -> ok <checksum> <runtime flags> <operator|operator...>
//   time <slot> <count>                      -> ok <ns> <ns> ...   (one per call)
//   output <slot> <path>                     -> ok <count>  (the last output, raw fp32, to path)
//   free <slot>                              -> ok
//   probes                                   -> ok <probe> <probe> ...  (the ones this CPU has)
//   peak <probe> <milliseconds>              -> ok <GOP/s> <instruction>
//                                               | error not-timed <instruction> | error unsupported ...
//   quit                                     -> (exits)
// <scheme> is qc8w, qc4w, qb4w or f32. The weights and inputs are generated from
// <seed> by the generator below, which the CLI mirrors bit for bit (BenchData.cs); the
// checksum (sum of the outputs) and the operator names let it check that both sides
// computed the same thing with the same operators, and the echoed runtime flags that the
// timed runtime was created with exactly the flags asked for. The operator names come from
// a twin runtime of the same graph created with XNN_FLAG_BASIC_PROFILING and deleted at
// once, as the managed Linear does: the timed runtime never pays profiling's timer reads
// unless its own flags ask for them.
// Up to MAX_SLOTS layers live at once, so that the CLI can interleave the cases of one
// shape (packing off, on, auto; managed, native, ONNX Runtime) batch by batch.
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peak-probe.h"
#include "pthreadpool.h"
#include "xnnkleidi.h"
#include "xnnpack.h"

#define PROTOCOL_VERSION 3
#define MAX_SLOTS 16


// ---- the benchmark data (mirrored in src/XnnKleidi.Cli/Bench/BenchData.cs) ----------

// A 32-bit linear congruential generator (Numerical Recipes' constants); uniform()
// uses the top 24 bits, so each value is exact in fp32 on both sides.
struct rng {
  uint32_t state;
};
static float uniform(struct rng* rng, float lo, float hi) {
  rng->state = rng->state * 1664525u + 1013904223u;
  return lo + (hi - lo) * (float) (rng->state >> 8) / 16777216.0f;
}
// fp32 -> bf16 by truncation; the reference dequantizes the same bits.
static uint16_t to_bf16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return (uint16_t) (bits >> 16);
}

enum scheme { scheme_qc8w, scheme_qc4w, scheme_qb4w, scheme_f32 };

struct layer {
  enum scheme scheme;
  size_t m, k, n, block_size;
  float* input;            // m*k + XNN_EXTRA_BYTES
  float* output;           // m*n
  float* bias;             // n
  float* f32_weights;      // n*k
  int8_t* qc8w;            // n*k
  uint8_t* nibbles;        // n*ceil(k/2), low nibble first, zero point 8
  float* channel_scales;   // n
  uint16_t* block_scales;  // n*(k/block_size), bf16
  xnn_subgraph_t subgraph;
  xnn_runtime_t runtime;
  pthreadpool_t threadpool;
};

static void generate(struct layer* layer, uint32_t seed) {
  struct rng rng = {seed};
  const size_t m = layer->m, k = layer->k, n = layer->n;
  for (size_t i = 0; i < m * k; i++) layer->input[i] = uniform(&rng, -2.0f, 2.0f);
  for (size_t i = 0; i < n; i++) layer->bias[i] = uniform(&rng, -1.0f, 1.0f);
  const size_t row_bytes = (k + 1) / 2;
  for (size_t row = 0; row < n; row++) {
    if (layer->scheme == scheme_qc8w || layer->scheme == scheme_qc4w) {
      layer->channel_scales[row] = uniform(&rng, 0.01f, 0.05f);
    }
    for (size_t col = 0; col < k; col++) {
      switch (layer->scheme) {
        case scheme_f32:
          layer->f32_weights[row * k + col] = uniform(&rng, -0.05f, 0.05f);
          break;
        case scheme_qc8w:
          layer->qc8w[row * k + col] = (int8_t) (int) uniform(&rng, -127.0f, 127.99f);
          break;
        case scheme_qb4w:
          if (col % layer->block_size == 0) {
            layer->block_scales[row * (k / layer->block_size) + col / layer->block_size] =
                to_bf16(uniform(&rng, 0.01f, 0.05f));
          }
          // fall through
        case scheme_qc4w: {
          const uint8_t q = (uint8_t) (int) uniform(&rng, 0.0f, 15.99f);
          uint8_t* byte = &layer->nibbles[row * row_bytes + col / 2];
          *byte = (col % 2 == 0) ? q : (uint8_t) (*byte | (q << 4));
          break;
        }
      }
    }
  }
}

static void free_layer(struct layer* layer) {
  if (layer->runtime != NULL) xnn_delete_runtime(layer->runtime);
  if (layer->subgraph != NULL) xnn_delete_subgraph(layer->subgraph);
  if (layer->threadpool != NULL) pthreadpool_destroy(layer->threadpool);
  free(layer->input); free(layer->output); free(layer->bias); free(layer->f32_weights); free(layer->qc8w);
  free(layer->nibbles); free(layer->channel_scales); free(layer->block_scales);
  memset(layer, 0, sizeof *layer);
}

static const char* status_name(enum xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid_parameter";
    case xnn_status_invalid_state: return "invalid_state";
    case xnn_status_unsupported_parameter: return "unsupported_parameter";
    case xnn_status_unsupported_hardware: return "unsupported_hardware";
    case xnn_status_out_of_memory: return "out_of_memory";
    default: return "unknown";
  }
}

// Defines the layer's graph in a new subgraph, as the managed LayerGraph does: the input is
// declared with one row and reshaped to M rows before the first run. On failure writes a
// message to `error` and returns NULL.
static xnn_subgraph_t define_graph(const struct layer* layer, uint32_t convert_flags, char* error, size_t error_size) {
  xnn_subgraph_t subgraph = NULL;
  enum xnn_status status = xnn_create_subgraph(2, 0, &subgraph);
  const size_t input_dims[2] = {1, layer->k};
  const size_t weight_dims[2] = {layer->n, layer->k};
  const size_t bias_dims[1] = {layer->n};
  const size_t output_dims[2] = {1, layer->n};
  uint32_t input_id = XNN_INVALID_VALUE_ID, quantized_id = XNN_INVALID_VALUE_ID, weight_id = XNN_INVALID_VALUE_ID;
  uint32_t bias_id = XNN_INVALID_VALUE_ID, output_id = XNN_INVALID_VALUE_ID;
  const char* step = "xnn_create_subgraph";
  if (status == xnn_status_success) {
    step = "xnn_define_tensor_value(input)";
    status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, input_dims, NULL, 0,
                                     XNN_VALUE_FLAG_EXTERNAL_INPUT, &input_id);
  }
  if (status == xnn_status_success && layer->scheme != scheme_f32) {
    step = "xnn_define_dynamically_quantized_tensor_value";
    status = xnn_define_dynamically_quantized_tensor_value(subgraph, xnn_datatype_qdint8, 2, 1, input_dims,
                                                           XNN_INVALID_VALUE_ID, 0, &quantized_id);
  }
  if (status == xnn_status_success) {
    step = "define weights";
    switch (layer->scheme) {
      case scheme_f32:
        status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, weight_dims, layer->f32_weights,
                                         XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
      case scheme_qc8w:
        status = xnn_define_channelwise_quantized_tensor_value_v2(
            subgraph, xnn_datatype_qcint8, 0, layer->channel_scales, 2, 0, weight_dims, layer->qc8w,
            XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
      case scheme_qc4w:
        status = xnn_define_channelwise_quantized_tensor_value_v2(
            subgraph, xnn_datatype_qcint4, 8, layer->channel_scales, 2, 0, weight_dims, layer->nibbles,
            XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
      case scheme_qb4w:
        status = xnn_define_blockwise_quantized_tensor_value(
            subgraph, xnn_datatype_qbint4, 8, layer->block_scales, 2, 0, layer->block_size, weight_dims,
            layer->nibbles, XNN_INVALID_VALUE_ID, 0, &weight_id);
        break;
    }
  }
  if (status == xnn_status_success) {
    step = "xnn_define_tensor_value(bias)";
    status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 1, bias_dims, layer->bias,
                                     XNN_INVALID_VALUE_ID, 0, &bias_id);
  }
  if (status == xnn_status_success) {
    step = "xnn_define_tensor_value(output)";
    status = xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, output_dims, NULL, 1,
                                     XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &output_id);
  }
  if (status == xnn_status_success && layer->scheme != scheme_f32) {
    step = "xnn_define_unary(convert)";
    status = xnn_define_unary(subgraph, xnn_unary_convert, NULL, input_id, quantized_id, convert_flags);
  }
  if (status == xnn_status_success) {
    step = "xnn_define_fully_connected";
    status = xnn_define_fully_connected(subgraph, -INFINITY, INFINITY,
                                        layer->scheme == scheme_f32 ? input_id : quantized_id, weight_id, bias_id,
                                        output_id, 0);
  }
  if (status != xnn_status_success) {
    snprintf(error, error_size, "%s failed: xnn_status_%s", step, status_name(status));
    if (subgraph != NULL) xnn_delete_subgraph(subgraph);
    return NULL;
  }
  return subgraph;
}

// Builds the timed runtime with exactly `runtime_flags`, reshapes it to M rows, sets it up
// and runs it once. On failure writes a message to `error`.
static bool build_layer(struct layer* layer, uint32_t convert_flags, size_t threads, uint32_t runtime_flags,
                        char* error, size_t error_size) {
  layer->subgraph = define_graph(layer, convert_flags, error, error_size);
  if (layer->subgraph == NULL) return false;
  if (threads > 1) {
    layer->threadpool = pthreadpool_create(threads);
    if (layer->threadpool == NULL) {
      snprintf(error, error_size, "pthreadpool_create(%zu) failed", threads);
      return false;
    }
  }
  const char* step = "xnn_create_runtime_v4";
  // No weights cache and no workspace: the managed layer is created without either.
  enum xnn_status status =
      xnn_create_runtime_v4(layer->subgraph, NULL, NULL, layer->threadpool, runtime_flags, &layer->runtime);
  if (status == xnn_status_success) {
    step = "xnn_reshape_external_value";
    const size_t rows_dims[2] = {layer->m, layer->k};
    status = xnn_reshape_external_value(layer->runtime, 0, 2, rows_dims);
  }
  if (status == xnn_status_success) {
    step = "xnn_reshape_runtime";
    status = xnn_reshape_runtime(layer->runtime);
  }
  if (status == xnn_status_success) {
    step = "xnn_setup_runtime_v2";
    const struct xnn_external_value externals[2] = {{0, layer->input}, {1, layer->output}};
    status = xnn_setup_runtime_v2(layer->runtime, 2, externals);
  }
  if (status == xnn_status_success) {
    step = "xnn_invoke_runtime";
    status = xnn_invoke_runtime(layer->runtime);
  }
  if (status != xnn_status_success) {
    snprintf(error, error_size, "%s failed: xnn_status_%s", step, status_name(status));
    return false;
  }
  return true;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

// Writes the operator names ("a|b") of a twin of the layer's graph, a runtime created with
// XNN_FLAG_BASIC_PROFILING (XNNPACK names operators only then) and deleted at once; or "-"
// when the twin cannot be built.
static void operator_names(const struct layer* layer, uint32_t convert_flags, char* names, size_t names_size) {
  char error[256];
  snprintf(names, names_size, "-");
  xnn_subgraph_t subgraph = define_graph(layer, convert_flags, error, sizeof error);
  if (subgraph == NULL) return;
  xnn_runtime_t twin = NULL;
  size_t count = 0, written = 0;
  char buffer[2048];
  if (xnn_create_runtime_v4(subgraph, NULL, NULL, NULL, XNN_FLAG_BASIC_PROFILING, &twin) == xnn_status_success &&
      xnn_get_runtime_profiling_info(twin, xnn_profile_info_num_operators, sizeof count, &count, &written) ==
          xnn_status_success &&
      xnn_get_runtime_profiling_info(twin, xnn_profile_info_operator_name, sizeof buffer, buffer, &written) ==
          xnn_status_success) {
    names[0] = '\0';
    const char* name = buffer;
    for (size_t i = 0; i < count; i++) {
      if (i > 0) strncat(names, "|", names_size - strlen(names) - 1);
      strncat(names, name, names_size - strlen(names) - 1);
      name += strlen(name) + 1;
    }
  }
  if (twin != NULL) xnn_delete_runtime(twin);
  xnn_delete_subgraph(subgraph);
}

static bool parse_scheme(const char* text, enum scheme* scheme) {
  static const char* const names[] = {"qc8w", "qc4w", "qb4w", "f32"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(text, names[i]) == 0) {
      *scheme = (enum scheme) i;
      return true;
    }
  }
  return false;
}

static const enum xnn_datatype weight_datatypes[] = {xnn_datatype_qcint8, xnn_datatype_qcint4, xnn_datatype_qbint4,
                                                     xnn_datatype_fp32};

// Parses the leading slot number; returns the layer or NULL (and answers the error).
static struct layer* slot_layer(struct layer* layers, const char* arguments, int* consumed) {
  unsigned slot = 0;
  if (sscanf(arguments, "%u%n", &slot, consumed) != 1 || slot >= MAX_SLOTS) {
    printf("error malformed or out-of-range slot (0..%d)\n", MAX_SLOTS - 1);
    return NULL;
  }
  return &layers[slot];
}

static void handle_layer(struct layer* layers, const char* arguments) {
  char scheme_text[16];
  size_t m, k, n, block_size, threads;
  unsigned pack, seed, runtime_flags;
  int consumed = 0;
  struct layer* layer = slot_layer(layers, arguments, &consumed);
  if (layer == NULL) return;
  arguments += consumed;
  free_layer(layer);
  if (sscanf(arguments, "%15s %zu %zu %zu %zu %u %zu %u %u", scheme_text, &m, &k, &n, &block_size, &pack, &threads,
             &seed, &runtime_flags) != 9 ||
      !parse_scheme(scheme_text, &layer->scheme) || m == 0 || k == 0 || n == 0 || threads == 0) {
    printf("error malformed layer request\n");
    return;
  }
  if (layer->scheme == scheme_qb4w && (block_size == 0 || k % block_size != 0)) {
    printf("error qb4w needs K (%zu) to be a multiple of the block size (%zu)\n", k, block_size);
    return;
  }
  layer->m = m; layer->k = k; layer->n = n; layer->block_size = block_size;
  layer->input = calloc(m * k * sizeof(float) + XNN_EXTRA_BYTES, 1);
  layer->output = calloc(m * n, sizeof(float));
  layer->bias = calloc(n, sizeof(float));
  layer->f32_weights = layer->scheme == scheme_f32 ? calloc(n * k, sizeof(float)) : NULL;
  layer->qc8w = layer->scheme == scheme_qc8w ? calloc(n * k, 1) : NULL;
  layer->nibbles = calloc(n * ((k + 1) / 2) + 1, 1);
  layer->channel_scales = calloc(n, sizeof(float));
  layer->block_scales = calloc(n * (block_size ? k / block_size + 1 : 1), sizeof(uint16_t));
  if (layer->input == NULL || layer->output == NULL || layer->bias == NULL || layer->nibbles == NULL ||
      (layer->scheme == scheme_f32 && layer->f32_weights == NULL) ||
      (layer->scheme == scheme_qc8w && layer->qc8w == NULL)) {
    free_layer(layer);
    printf("error out of memory\n");
    return;
  }
  generate(layer, seed);
  // Only ever a flag the library hands out: anything else may reach undefined behaviour.
  const uint32_t convert_flags = pack ? xnnkleidi_pack_flag_for_weights(weight_datatypes[layer->scheme]) : 0;
  char error[256];
  if (!build_layer(layer, convert_flags, threads, runtime_flags, error, sizeof error)) {
    free_layer(layer);
    printf("error %s\n", error);
    return;
  }
  double checksum = 0.0;
  for (size_t i = 0; i < m * n; i++) checksum += layer->output[i];
  char names[1024];
  operator_names(layer, convert_flags, names, sizeof names);
  printf("ok %.17g %u %s\n", checksum, runtime_flags, names);
}

static void handle_time(struct layer* layers, const char* arguments) {
  long count = 0;
  int consumed = 0;
  struct layer* layer = slot_layer(layers, arguments, &consumed);
  if (layer == NULL) return;
  arguments += consumed;
  if (layer->runtime == NULL) {
    printf("error no layer\n");
    return;
  }
  if (sscanf(arguments, "%ld", &count) != 1 || count <= 0 || count > 10000000) {
    printf("error malformed time request\n");
    return;
  }
  uint64_t* times = malloc((size_t) count * sizeof(uint64_t));
  if (times == NULL) {
    printf("error out of memory\n");
    return;
  }
  // The timed loop: the same as the managed one, a clock read on either side of one call.
  enum xnn_status status = xnn_status_success;
  for (long i = 0; i < count && status == xnn_status_success; i++) {
    const uint64_t start = now_ns();
    status = xnn_invoke_runtime(layer->runtime);
    times[i] = now_ns() - start;
  }
  if (status != xnn_status_success) {
    printf("error xnn_invoke_runtime failed: xnn_status_%s\n", status_name(status));
  } else {
    fputs("ok", stdout);
    for (long i = 0; i < count; i++) printf(" %llu", (unsigned long long) times[i]);
    fputc('\n', stdout);
  }
  free(times);
}

// Writes the last output of a slot's layer as raw fp32 to a file, for the CLI to check
// against its float64 reference.
static void handle_output(struct layer* layers, const char* arguments) {
  int consumed = 0;
  struct layer* layer = slot_layer(layers, arguments, &consumed);
  if (layer == NULL) return;
  arguments += consumed;
  while (*arguments == ' ') arguments++;
  if (layer->runtime == NULL) {
    printf("error no layer\n");
    return;
  }
  FILE* file = *arguments != '\0' ? fopen(arguments, "wb") : NULL;
  if (file == NULL) {
    printf("error cannot write '%s': %s\n", arguments, strerror(errno));
    return;
  }
  const size_t count = layer->m * layer->n;
  const size_t written = fwrite(layer->output, sizeof(float), count, file);
  if (fclose(file) != 0 || written != count) {
    printf("error writing '%s' failed\n", arguments);
    return;
  }
  printf("ok %zu\n", count);
}

int main(void) {
  if (xnn_initialize(NULL) != xnn_status_success) {
    printf("error xnn_initialize failed\n");
    return 1;
  }
  static struct layer layers[MAX_SLOTS];
  static char line[4096];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    char* arguments = strchr(line, ' ');
    if (arguments != NULL) *arguments++ = '\0'; else arguments = line + strlen(line);
    if (strcmp(line, "hello") == 0) {
      printf("ok %d %s\n", PROTOCOL_VERSION, xnnkleidi_build_info());
    } else if (strcmp(line, "layer") == 0) {
      handle_layer(layers, arguments);
    } else if (strcmp(line, "time") == 0) {
      handle_time(layers, arguments);
    } else if (strcmp(line, "free") == 0) {
      int consumed = 0;
      struct layer* layer = slot_layer(layers, arguments, &consumed);
      if (layer != NULL) {
        free_layer(layer);
        printf("ok\n");
      }
    } else if (strcmp(line, "output") == 0) {
      handle_output(layers, arguments);
    } else if (strcmp(line, "probes") == 0) {
      const char* names[32];
      const size_t count = xnnkleidi_bench_supported_probes(names, 32);
      fputs("ok", stdout);
      for (size_t i = 0; i < count; i++) printf(" %s", names[i]);
      fputc('\n', stdout);
    } else if (strcmp(line, "peak") == 0) {
      char name[32];
      double milliseconds = 0.0, gops = 0.0;
      const char* instruction = "";
      if (sscanf(arguments, "%31s %lf", name, &milliseconds) != 2 || milliseconds <= 0.0) {
        printf("error malformed peak request\n");
      } else {
        switch (xnnkleidi_bench_peak(name, milliseconds, &gops, &instruction)) {
          case xnnkleidi_peak_measured: printf("ok %.6g %s\n", gops, instruction); break;
          case xnnkleidi_peak_not_timed: printf("error not-timed %s\n", instruction); break;
          case xnnkleidi_peak_unsupported: printf("error unsupported %s: this CPU or OS cannot run it\n", instruction); break;
          default: printf("error unknown probe '%s'\n", name); break;
        }
      }
    } else if (strcmp(line, "quit") == 0) {
      break;
    } else {
      printf("error unknown request '%s'\n", line);
    }
    fflush(stdout);
  }
  for (int i = 0; i < MAX_SLOTS; i++) free_layer(&layers[i]);
  return 0;
}
