#!/usr/bin/env bash
# Writes THIRD-PARTY-NOTICES.txt for the native libraries: the licence text of
# everything linked into libxnnkleidi.so, each taken from the artifact it ships in
# (the upstream tarball's LICENSE, or the Debian package's copyright file).
#
# Usage: third-party-notices.sh SOURCES.cmake OUTPUT.txt
set -euo pipefail
sources_cmake="${1:?usage: third-party-notices.sh SOURCES.cmake OUTPUT.txt}"
output="${2:?output file}"

value_of() {
  sed -n "s/^set($1 \"\\([^\"]*\\)\".*/\\1/p" "$sources_cmake" | head -1
}

section() {
  local title="$1" version="$2" file="$3"
  [[ -f "$file" ]] || { echo "third-party-notices: missing licence file $file for $title" >&2; exit 1; }
  printf '%s\n' "================================================================================"
  printf '%s (%s)\n' "$title" "$version"
  printf '%s\n\n' "================================================================================"
  cat "$file"
  printf '\n\n'
}

{
  printf 'XnnKleidi ships native libraries (libxnnkleidi.so) that statically link the\n'
  printf 'following components. Their licence texts follow, as each artifact carries them.\n'
  printf 'The libraries also link GCC'"'"'s libgcc and libstdc++ statically, under the GCC\n'
  printf 'Runtime Library Exception, which asks for no notice.\n\n'
  section "XNNPACK" "$(value_of XNNKLEIDI_XNNPACK_VERSION)" "$(value_of XNNKLEIDI_XNNPACK_DIR)/LICENSE"
  section "cpuinfo" "$(value_of XNNKLEIDI_CPUINFO_VERSION)" "$(value_of XNNKLEIDI_CPUINFO_DIR)/LICENSE"
  section "pthreadpool" "$(value_of XNNKLEIDI_PTHREADPOOL_VERSION)" "$(value_of XNNKLEIDI_PTHREADPOOL_DIR)/LICENSE"
  section "FXdiv" "$(value_of XNNKLEIDI_FXDIV_VERSION)" "$(value_of XNNKLEIDI_FXDIV_DIR)/LICENSE"
  section "FP16" "$(value_of XNNKLEIDI_FP16_VERSION)" "$(value_of XNNKLEIDI_FP16_DIR)/LICENSE"
  section "psimd" "$(value_of XNNKLEIDI_PSIMD_VERSION)" "$(value_of XNNKLEIDI_PSIMD_DIR)/LICENSE"
  kleidiai_dir="$(value_of XNNKLEIDI_KLEIDIAI_DIR)"
  section "KleidiAI (linux-arm64 only; Debian package libkleidiai-dev, its copyright file)" \
    "$(value_of XNNKLEIDI_KLEIDIAI_VERSION)" "$kleidiai_dir/usr/share/doc/libkleidiai-dev/copyright"
  # The Debian copyright file refers to the full Apache-2.0 text by path on a
  # Debian system; include that text so the notice stands on its own.
  section "Apache License 2.0, full text (as referred to by KleidiAI's copyright file)" \
    "from Debian's base-files" /usr/share/common-licenses/Apache-2.0
} > "$output.tmp"
mv -f "$output.tmp" "$output"
echo "third-party-notices: wrote $output ($(wc -l < "$output") lines)"
