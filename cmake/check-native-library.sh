#!/usr/bin/env bash
# Checks a built libxnnkleidi.so as a consumer would meet it, and fails on a violation:
#   * exported symbols: only xnn_*, xnnkleidi_* and the pthreadpool calls the version
#     script names; no kai_*, cpuinfo_* or C++ (_Z*) symbol leaks;
#   * NEEDED entries: only libc, libm, libdl, libpthread and the dynamic loader;
#   * linux-arm64: KleidiAI's kai_run_* kernels are linked in (as local symbols);
#   * the highest GLIBC_ symbol version required, printed, and refused above MAX_GLIBC.
# readelf is used rather than nm because it reads ELF of any architecture.
#
# Usage: check-native-library.sh LIBRARY RID MAX_GLIBC
set -euo pipefail
library="${1:?usage: check-native-library.sh LIBRARY RID MAX_GLIBC}"
rid="${2:?rid}"
max_glibc="${3:?max glibc, e.g. 2.34}"
[[ -f "$library" ]] || { echo "FAIL: $library does not exist"; exit 1; }

failed=0
fail() { echo "FAIL: $*"; failed=1; }

# Defined, global or weak, dynamic symbols (column 7 is the section index: UND is an
# import, ABS the version-script node XNNKLEIDI_1).
exported="$(readelf -W --dyn-syms "$library" | awk '$5 ~ /GLOBAL|WEAK/ && $7 != "UND" && $7 != "ABS" { sub(/@.*/, "", $8); print $8 }' | sort -u)"
export_count="$(grep -c . <<<"$exported" || true)"
unexpected="$(grep -Ev '^(xnn_|xnnkleidi_|pthreadpool_(create|destroy|get_threads_count)$)' <<<"$exported" || true)"
[[ -z "$unexpected" ]] || fail "unexpected exported symbols: $(tr '\n' ' ' <<<"$unexpected")"
leaked="$(grep -E '^(kai_|cpuinfo_|_Z)' <<<"$exported" || true)"
[[ -z "$leaked" ]] || fail "leaked symbols: $(tr '\n' ' ' <<<"$leaked")"
xnn_count="$(grep -c '^xnn_' <<<"$exported" || true)"
own_count="$(grep -c '^xnnkleidi_' <<<"$exported" || true)"
(( xnn_count > 0 )) || fail "no xnn_* symbol is exported"
(( own_count > 0 )) || fail "no xnnkleidi_* symbol is exported"
echo "exports: $export_count ($xnn_count xnn_*, $own_count xnnkleidi_*, $((export_count - xnn_count - own_count)) pthreadpool_*)"

needed="$(readelf -W -d "$library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)"
echo "NEEDED: $(tr '\n' ' ' <<<"$needed")"
while read -r entry; do
  [[ -z "$entry" ]] && continue
  [[ "$entry" =~ ^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$ ]] \
    || fail "unexpected NEEDED entry: $entry"
done <<<"$needed"

if [[ "$rid" == linux-arm64 ]]; then
  kai_kernels="$(readelf -W -s "$library" | awk '$4 == "FUNC" && $8 ~ /^kai_run_/ { print $8 }' | sort -u | grep -c . || true)"
  (( kai_kernels > 0 )) || fail "no KleidiAI kai_run_* function is linked into the arm64 library"
  echo "KleidiAI kai_run_* functions linked: $kai_kernels"
fi

highest_glibc="$(readelf -W -V "$library" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
echo "highest GLIBC_ version required: ${highest_glibc:-none}"
if [[ -n "$highest_glibc" && "$(printf '%s\n%s\n' "$highest_glibc" "$max_glibc" | sort -V | tail -1)" != "$max_glibc" ]]; then
  fail "requires GLIBC_$highest_glibc, above the allowed GLIBC_$max_glibc"
fi

if (( failed )); then
  echo "$rid: artifact check FAILED for $library"
  exit 1
fi
echo "$rid: artifact check passed for $library"
