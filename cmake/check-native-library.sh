#!/usr/bin/env bash
# Checks a built library as a consumer would meet it, and fails on a violation:
#   * the file format and architecture match the RID (ELF x86-64/AArch64, PE32+ x86-64);
#   * exported symbols: exactly the names of the export list (bindings/Generated/xnnkleidi.exports),
#     so no kai_*, cpuinfo_*, internal xnn_* or C++ (_Z*) symbol leaks, and none is missing;
#   * Linux: NEEDED entries only libc, libm, libdl, libpthread and the dynamic loader, and the
#     highest GLIBC_ symbol version required, printed, and refused above MAX_GLIBC;
#   * linux-musl: NEEDED only musl's C library (libc.so, or its loader's name), no GLIBC_ version,
#     and the C library imported, not copied in from libc.a;
#   * Windows: imported DLLs only Windows system DLLs; no MinGW runtime DLL (libwinpthread-1,
#     libgcc_s_*, libstdc++-6), which a Windows machine does not have;
#   * Windows: no aligned 32- or 64-byte vector move (vmovaps, vmovdqa, ...) addresses the stack.
#     The Windows x64 ABI aligns the stack to 16 bytes only and GCC does not realign it for AVX
#     spills, so such a move would fault on whichever CPU runs that kernel; unaligned moves cannot.
#   * linux-arm64, linux-musl-arm64: KleidiAI's kai_run_* kernels are linked in (as local symbols).
# readelf and objdump read files of any architecture.
#
# Usage: check-native-library.sh LIBRARY RID MAX_GLIBC EXPORT_LIST
set -euo pipefail
usage="usage: check-native-library.sh LIBRARY RID MAX_GLIBC EXPORT_LIST"
library="${1:?$usage}"
rid="${2:?$usage}"
max_glibc="${3:?$usage}"
export_list="${4:?$usage}"
[[ -f "$library" ]] || { echo "FAIL: $library does not exist"; exit 1; }
[[ -f "$export_list" ]] || { echo "FAIL: the export list $export_list does not exist"; exit 1; }

failed=0
fail() { echo "FAIL: $*"; failed=1; }

expected="$(grep -Ev '^(#|$)' "$export_list" | sort -u)"

# The first bytes say which format the file is: "\x7fELF" or "MZ".
magic="$(head -c 4 "$library" | od -An -tx1 | tr -d ' \n')"
case "$rid" in
  win-*)
    [[ "$magic" == 4d5a* ]] || fail "$rid needs a PE file (MZ), but $library starts with $magic"
    objdump=x86_64-w64-mingw32-objdump
    command -v "$objdump" >/dev/null || { echo "FAIL: $objdump is not installed (binutils-mingw-w64-x86-64)"; exit 1; }
    headers="$("$objdump" -p "$library")"
    grep -q '^Magic[[:space:]]*020b' <<<"$headers" || fail "not a PE32+ (64-bit) image"
    grep -q 'file format pei-x86-64' <<<"$("$objdump" -f "$library")" || fail "not an x86-64 image"
    # The export table's name pointer table: lines "[   n] name" after its heading.
    exported="$(awk '/^\[Ordinal\/Name Pointer\] Table/ { table = 1; next } table && /^\t\[/ { print $NF; next } table { table = 0 }' <<<"$headers" | sort -u)"
    imports="$(sed -n 's/^[[:space:]]*DLL Name: //p' <<<"$headers" | sort -u)"
    echo "imports: $(tr '\n' ' ' <<<"$imports")"
    while read -r dll; do
      [[ -z "$dll" ]] && continue
      # KERNEL32 and the C runtime MinGW-w64 targets (msvcrt) are part of every Windows.
      [[ "${dll,,}" =~ ^(kernel32|msvcrt|advapi32|user32|ntdll|bcrypt|ws2_32)\.dll$ ]] \
        || fail "imports $dll, which is not a Windows system DLL"
      [[ "${dll,,}" =~ ^(libwinpthread|libgcc_s|libstdc\+\+|libssp|libgomp) ]] \
        && fail "imports the MinGW runtime DLL $dll; link it statically"
    done <<<"$imports"
    disassembly="$("$objdump" -d --no-show-raw-insn "$library")"
    vector_register='%[yz]mm[0-9]+'
    stack_operand='[^ ,]*\(%r[sb]p[^)]*\)'
    aligned_moves="$(grep -E "vmov(aps|apd|dqa|dqa32|dqa64|ntps|ntpd|ntdq)[[:space:]]+($vector_register,$stack_operand|$stack_operand,$vector_register)" <<<"$disassembly" || true)"
    spills="$(grep -cE "vmov(ups|upd|dqu|dqu8|dqu16|dqu32|dqu64)[[:space:]]+($vector_register,$stack_operand|$stack_operand,$vector_register)" <<<"$disassembly" || true)"
    if [[ -n "$aligned_moves" ]]; then
      fail "$(grep -c . <<<"$aligned_moves") aligned AVX moves address the 16-byte-aligned stack: $(head -3 <<<"$aligned_moves" | tr -s '\t ' ' ')"
    fi
    echo "AVX stack moves: $spills unaligned, $(grep -c . <<<"$aligned_moves" || true) aligned"
    ;;
  linux-*)
    [[ "$magic" == 7f454c46 ]] || fail "$rid needs an ELF file, but $library starts with $magic"
    machine="$(readelf -h "$library" | sed -n 's/^ *Machine: *//p')"
    case "$rid" in
      *-x64) [[ "$machine" == *X86-64* ]] || fail "$rid needs an x86-64 library, $library is for $machine" ;;
      *-arm64) [[ "$machine" == *AArch64* ]] || fail "$rid needs an AArch64 library, $library is for $machine" ;;
    esac
    # Defined, global or weak, dynamic symbols (column 7 is the section index: UND is an
    # import, ABS the version-script node XNNKLEIDI_1).
    exported="$(readelf -W --dyn-syms "$library" | awk '$5 ~ /GLOBAL|WEAK/ && $7 != "UND" && $7 != "ABS" { sub(/@.*/, "", $8); print $8 }' | sort -u)"
    needed="$(readelf -W -d "$library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)"
    echo "NEEDED: $(tr '\n' ' ' <<<"$needed")"
    while read -r entry; do
      [[ -z "$entry" ]] && continue
      if [[ "$rid" == linux-musl-* ]]; then
        # musl is one file: the C library, libm, libpthread and the loader alike.
        [[ "$entry" =~ ^(libc\.so|ld-musl-(x86_64|aarch64)\.so\.1)$ ]] \
          || fail "unexpected NEEDED entry for musl: $entry (only libc.so)"
        continue
      fi
      [[ "$entry" =~ ^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$ ]] \
        || fail "unexpected NEEDED entry: $entry"
    done <<<"$needed"
    highest_glibc="$(readelf -W -V "$library" | { grep -o 'GLIBC_[0-9][0-9.]*' || true; } | sed 's/GLIBC_//' | sort -V | tail -1)"
    if [[ "$rid" == linux-musl-* && -n "$highest_glibc" ]]; then
      fail "a musl library requires the glibc symbol version GLIBC_$highest_glibc"
    fi
    if [[ "$rid" == linux-musl-* ]]; then
      # A linker that finds libc.a before libc.so copies the C library into the shared
      # library, whose threads then fail to start: the C library's functions must be imported.
      copied="$(readelf -W -s "$library" | awk '$4 == "FUNC" && $7 != "UND" && $8 ~ /^(pthread_create|malloc|__libc_start_main)$/ { print $8 }' | sort -u)"
      [[ -z "$copied" ]] || fail "defines the C library's $(tr '\n' ' ' <<<"$copied")instead of importing them from libc.so (libc.a was linked in)"
    fi
    echo "highest GLIBC_ version required: ${highest_glibc:-none}"
    if [[ -n "$highest_glibc" && "$(printf '%s\n%s\n' "$highest_glibc" "$max_glibc" | sort -V | tail -1)" != "$max_glibc" ]]; then
      fail "requires GLIBC_$highest_glibc, above the allowed GLIBC_$max_glibc"
    fi
    ;;
  *) fail "unknown RID $rid" ;;
esac

export_count="$(grep -c . <<<"$exported" || true)"
expected_count="$(grep -c . <<<"$expected" || true)"
unexpected="$(comm -23 <(echo "$exported") <(echo "$expected") | grep . || true)"
missing="$(comm -13 <(echo "$exported") <(echo "$expected") | grep . || true)"
[[ -z "$unexpected" ]] || fail "exports $(grep -c . <<<"$unexpected") names that the export list does not: $(head -20 <<<"$unexpected" | tr '\n' ' ')"
[[ -z "$missing" ]] || fail "does not export $(grep -c . <<<"$missing") names of the export list: $(head -20 <<<"$missing" | tr '\n' ' ')"
echo "exports: $export_count names; the export list has $expected_count ($(grep -c '^xnn_' <<<"$exported" || true) xnn_*, $(grep -c '^xnnkleidi_' <<<"$exported" || true) xnnkleidi_*, $(grep -c '^pthreadpool_' <<<"$exported" || true) pthreadpool_*)"

if [[ "$rid" == linux-arm64 || "$rid" == linux-musl-arm64 ]]; then
  kai_kernels="$(readelf -W -s "$library" | awk '$4 == "FUNC" && $8 ~ /^kai_run_/ { print $8 }' | sort -u | grep -c . || true)"
  (( kai_kernels > 0 )) || fail "no KleidiAI kai_run_* function is linked into the arm64 library"
  echo "KleidiAI kai_run_* functions linked: $kai_kernels"
fi

if (( failed )); then
  echo "$rid: artifact check FAILED for $library"
  exit 1
fi
echo "$rid: artifact check passed for $library"
