#!/usr/bin/env bash
# Checks a packed XnnKleidi .nupkg the way a consumer will meet it, in the spirit of
# ONNX Runtime's validate_package.py, and fails on the first class of problem found:
#   * both RIDs' native libraries are present, and no other native file is;
#   * the headers, the notices, the licence and the package README are present;
#   * the managed assembly is present for every target framework;
#   * each native library's ABI version (xnnkleidi_abi_version(), called through
#     dlopen, arm64 under QEMU) equals the one the managed bindings were generated
#     against (XNNKLEIDI_ABI_VERSION in bindings/Generated).
#
# Usage: validate-package.sh PACKAGE.nupkg QEMU_AARCH64
#   QEMU_AARCH64: the pinned qemu-aarch64 (cmake/sources.lock), which runs the arm64 probe.
set -euo pipefail
package="${1:?usage: validate-package.sh PACKAGE.nupkg QEMU_AARCH64}"
qemu_aarch64="${2:?usage: validate-package.sh PACKAGE.nupkg QEMU_AARCH64}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -f "$package" ]] || { echo "FAIL: $package does not exist"; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unzip -q "$package" -d "$work/content"
entries="$(cd "$work/content" && find . -type f | sed 's|^\./||' | sort)"

failed=0
fail() { echo "FAIL: $*"; failed=1; }
require() { grep -qxF "$1" <<<"$entries" || fail "missing $1"; }

require runtimes/linux-x64/native/libxnnkleidi.so
require runtimes/linux-arm64/native/libxnnkleidi.so
require build/native/include/xnnpack.h
require build/native/include/pthreadpool.h
require build/native/include/xnnkleidi.h
require THIRD-PARTY-NOTICES.txt
require LICENSE
require README.md
grep -qE '^lib/net[0-9.]+/XnnKleidi\.dll$' <<<"$entries" || fail "no managed XnnKleidi.dll under lib/"

stray="$(grep -E '^runtimes/' <<<"$entries" | grep -vxE 'runtimes/linux-(x64|arm64)/native/libxnnkleidi\.so' || true)"
[[ -z "$stray" ]] || fail "stray native files: $(tr '\n' ' ' <<<"$stray")"
stray="$(grep -E '\.(so|so\.[0-9]+|dylib|dll|a)$' <<<"$entries" | grep -vE '^(runtimes/linux-(x64|arm64)/native/libxnnkleidi\.so|lib/net[0-9.]+/XnnKleidi\.dll)$' || true)"
[[ -z "$stray" ]] || fail "unexpected binaries: $(tr '\n' ' ' <<<"$stray")"

for name in XNNPACK cpuinfo pthreadpool FXdiv FP16 psimd KleidiAI; do
  grep -q "^$name " "$work/content/THIRD-PARTY-NOTICES.txt" || fail "THIRD-PARTY-NOTICES.txt has no section for $name"
done

managed_abi="$(grep -hoE 'XNNKLEIDI_ABI_VERSION = [0-9]+' "$repo_root"/bindings/Generated/*.g.cs | head -1 | grep -oE '[0-9]+$' || true)"
[[ -n "$managed_abi" ]] || fail "cannot read XNNKLEIDI_ABI_VERSION from bindings/Generated"

cat > "$work/abi-probe.c" <<'PROBE'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char** argv) {
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) { fprintf(stderr, "%s\n", dlerror()); return 2; }
  unsigned (*abi_version)(void) = (unsigned (*)(void)) dlsym(library, "xnnkleidi_abi_version");
  if (abi_version == NULL) { fprintf(stderr, "no xnnkleidi_abi_version\n"); return 3; }
  printf("%u\n", abi_version());
  return argc == 2 ? 0 : 4;
}
PROBE
gcc -o "$work/abi-probe-x64" "$work/abi-probe.c" -ldl
aarch64-linux-gnu-gcc -o "$work/abi-probe-arm64" "$work/abi-probe.c" -ldl
x64_abi="$("$work/abi-probe-x64" "$work/content/runtimes/linux-x64/native/libxnnkleidi.so" || echo "load failed")"
arm64_abi="$("$qemu_aarch64" -L /usr/aarch64-linux-gnu -cpu max "$work/abi-probe-arm64" \
  "$work/content/runtimes/linux-arm64/native/libxnnkleidi.so" || echo "load failed")"
echo "ABI versions: managed $managed_abi, linux-x64 $x64_abi, linux-arm64 $arm64_abi"
[[ "$x64_abi" == "$managed_abi" ]] || fail "linux-x64 native ABI $x64_abi differs from the managed $managed_abi"
[[ "$arm64_abi" == "$managed_abi" ]] || fail "linux-arm64 native ABI $arm64_abi differs from the managed $managed_abi"

if (( failed )); then
  echo "package validation FAILED: $package"
  exit 1
fi
echo "package validation passed: $package ($(grep -c . <<<"$entries") files)"
