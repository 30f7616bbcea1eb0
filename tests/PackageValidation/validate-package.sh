#!/usr/bin/env bash
# Checks a packed XnnKleidi .nupkg the way a consumer will meet it, in the spirit of
# ONNX Runtime's validate_package.py, and fails on the first class of problem found:
#   * every RID's native library given is present, and no other native file is;
#   * each of them passes cmake/check-native-library.sh for its RID, as the Native target's
#     build did: ELF x86-64 or AArch64, or PE32+ x86-64; glibc (and its floor) or musl, read
#     from NEEDED and the symbol versions; exactly the exported names of the export list;
#   * the headers, the notices, the licence and the package README are present;
#   * the managed assembly is present for every target framework;
#   * each native library's ABI version (xnnkleidi_abi_version(), called through dlopen or
#     LoadLibrary: linux-arm64 under QEMU, win-x64 under Wine, linux-musl-x64 on musl's own
#     loader) equals the one the managed bindings were generated against (XNNKLEIDI_ABI_VERSION
#     in bindings/Generated). linux-musl-arm64 is not probed here: a probe would need the musl
#     cross toolchain of the Native build; TestNative's smoke test makes the same check there.
#
# Usage: validate-package.sh PACKAGE.nupkg QEMU_AARCH64 MAX_GLIBC RID/FILE...
#   QEMU_AARCH64: the pinned qemu-aarch64 (cmake/sources.lock), which runs the arm64 probe.
#   MAX_GLIBC: the highest glibc symbol version a Linux library may need (as for the Native build).
#   RID/FILE: each native library the package must carry, e.g. linux-x64/libxnnkleidi.so.
set -euo pipefail
usage="usage: validate-package.sh PACKAGE.nupkg QEMU_AARCH64 MAX_GLIBC RID/FILE..."
package="${1:?$usage}"
qemu_aarch64="${2:?$usage}"
max_glibc="${3:?$usage}"
shift 3
(( $# > 0 )) || { echo "$usage" >&2; exit 2; }
libraries=("$@")
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -f "$package" ]] || { echo "FAIL: $package does not exist"; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unzip -q "$package" -d "$work/content"
entries="$(cd "$work/content" && find . -type f | sed 's|^\./||' | sort)"

failed=0
fail() { echo "FAIL: $*"; failed=1; }
require() { grep -qxF "$1" <<<"$entries" || fail "missing $1"; }

expected_native=""
for library in "${libraries[@]}"; do
  require "runtimes/${library%%/*}/native/${library#*/}"
  expected_native+="runtimes/${library%%/*}/native/${library#*/}"$'\n'
done
require build/native/include/xnnpack.h
require build/native/include/pthreadpool.h
require build/native/include/xnnkleidi.h
require THIRD-PARTY-NOTICES.txt
require LICENSE
require README.md
grep -qE '^lib/net[0-9.]+/XnnKleidi\.dll$' <<<"$entries" || fail "no managed XnnKleidi.dll under lib/"

stray="$(grep -E '^runtimes/' <<<"$entries" | grep -vxF -f <(grep . <<<"$expected_native") || true)"
[[ -z "$stray" ]] || fail "stray native files: $(tr '\n' ' ' <<<"$stray")"
stray="$(grep -E '\.(so|so\.[0-9]+|dylib|dll|a)$' <<<"$entries" | grep -vxF -f <(grep . <<<"$expected_native") \
  | grep -vE '^lib/net[0-9.]+/XnnKleidi\.dll$' || true)"
[[ -z "$stray" ]] || fail "unexpected binaries: $(tr '\n' ' ' <<<"$stray")"
(( failed == 0 )) || { echo "package validation FAILED: $package"; exit 1; }

# The same check the Native target ran on each build, now on the file as packed under its RID.
for library in "${libraries[@]}"; do
  rid="${library%%/*}"
  bash "$repo_root/cmake/check-native-library.sh" "$work/content/runtimes/$rid/native/${library#*/}" "$rid" "$max_glibc" \
    "$repo_root/bindings/Generated/xnnkleidi.exports" > "$work/check-$rid.txt" \
    || { cat "$work/check-$rid.txt"; fail "runtimes/$rid/native/${library#*/} fails the artifact check for $rid"; continue; }
  echo "runtimes/$rid/native/${library#*/}: $(grep -E '^(NEEDED|imports):' "$work/check-$rid.txt" | head -1 | sed 's/ *$//'); artifact check passed"
done

for name in XNNPACK cpuinfo pthreadpool FXdiv FP16 psimd KleidiAI; do
  grep -q "^$name " "$work/content/THIRD-PARTY-NOTICES.txt" || fail "THIRD-PARTY-NOTICES.txt has no section for $name"
done

managed_abi="$(grep -hoE 'XNNKLEIDI_ABI_VERSION = [0-9]+' "$repo_root"/bindings/Generated/*.g.cs | head -1 | grep -oE '[0-9]+$' || true)"
[[ -n "$managed_abi" ]] || fail "cannot read XNNKLEIDI_ABI_VERSION from bindings/Generated"

cat > "$work/abi-probe.c" <<'PROBE'
#include <stdio.h>
#ifdef _WIN32
#include <windows.h>
#define OPEN(path) ((void*) LoadLibraryA(path))
#define SYMBOL(library, name) ((void*) GetProcAddress((HMODULE) (library), name))
#define OPEN_ERROR() "LoadLibrary failed"
#else
#include <dlfcn.h>
#define OPEN(path) dlopen(path, RTLD_NOW | RTLD_LOCAL)
#define SYMBOL(library, name) dlsym(library, name)
#define OPEN_ERROR() dlerror()
#endif
int main(int argc, char** argv) {
  void* library = OPEN(argv[1]);
  if (library == NULL) { fprintf(stderr, "%s\n", OPEN_ERROR()); return 2; }
  unsigned (*abi_version)(void) = (unsigned (*)(void)) SYMBOL(library, "xnnkleidi_abi_version");
  if (abi_version == NULL) { fprintf(stderr, "no xnnkleidi_abi_version\n"); return 3; }
  printf("%u\n", abi_version());
  return argc == 2 ? 0 : 4;
}
PROBE
abi_line="ABI versions: managed $managed_abi"
for library in "${libraries[@]}"; do
  rid="${library%%/*}"
  path="$work/content/runtimes/$rid/native/${library#*/}"
  case "$rid" in
    linux-x64)
      gcc -o "$work/abi-probe-$rid" "$work/abi-probe.c" -ldl
      abi="$("$work/abi-probe-$rid" "$path" || echo "load failed")" ;;
    linux-arm64)
      aarch64-linux-gnu-gcc -o "$work/abi-probe-$rid" "$work/abi-probe.c" -ldl
      abi="$("$qemu_aarch64" -L /usr/aarch64-linux-gnu -cpu max "$work/abi-probe-$rid" "$path" || echo "load failed")" ;;
    linux-musl-x64)
      # musl-gcc links against musl and names its loader, so the probe runs natively on musl.
      musl-gcc -o "$work/abi-probe-$rid" "$work/abi-probe.c"
      abi="$("$work/abi-probe-$rid" "$path" || echo "load failed")" ;;
    win-x64)
      x86_64-w64-mingw32-gcc -o "$work/abi-probe-$rid.exe" "$work/abi-probe.c"
      # Wine hands the Unix path over as it is; Windows programs see it as drive Z:.
      abi="$(bash "$repo_root/cmake/run-under-wine.sh" "$work/abi-probe-$rid.exe" "Z:$(tr / '\\' <<<"$path")" | tr -d '\r' || echo "load failed")" ;;
    *)
      abi_line+=", $rid not probed"
      continue ;;
  esac
  abi_line+=", $rid $abi"
  [[ "$abi" == "$managed_abi" ]] || fail "$rid native ABI $abi differs from the managed $managed_abi"
done
echo "$abi_line"

if (( failed )); then
  echo "package validation FAILED: $package"
  exit 1
fi
echo "package validation passed: $package ($(grep -c . <<<"$entries") files, native libraries for ${#libraries[@]} RIDs)"
