#!/usr/bin/env bash
# XnnKleidi's one entry point. It installs what a fresh Debian 12 machine lacks,
# then hands over to Cake (build.cake) with the same arguments:
#   ./build.sh --target=Native     build the library for linux-x64, linux-arm64, win-x64,
#                                  linux-musl-x64 and linux-musl-arm64
#   ./build.sh --target=Test       build and run every test (the default target)
# Downloads are cached outside the work tree (~/.cache/xnnkleidi, ~/.cache/ccache).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Debian packages the build needs, each with the command that proves it is present.
required_packages=(
  "cmake:cmake"
  "ninja-build:ninja"
  "ccache:ccache"
  "patch:patch"
  "xz-utils:xz"
  "binutils:readelf"
  "gcc-aarch64-linux-gnu:aarch64-linux-gnu-gcc"
  "g++-aarch64-linux-gnu:aarch64-linux-gnu-g++"
  "binutils-aarch64-linux-gnu:aarch64-linux-gnu-ld"
  "libc6-dev-arm64-cross:/usr/aarch64-linux-gnu/include/stdio.h"
  "clang-14:clang-14"
  # win-x64: MinGW-w64 (the posix flavour, with winpthreads) builds libxnnkleidi.dll; Wine runs its tests.
  "gcc-mingw-w64-x86-64-posix:x86_64-w64-mingw32-gcc-posix"
  "g++-mingw-w64-x86-64-posix:x86_64-w64-mingw32-g++-posix"
  "binutils-mingw-w64-x86-64:x86_64-w64-mingw32-objdump"
  "wine64:/usr/lib/wine/wine64"
  "wine:wine"
  # linux-musl-x64: musl 1.2.3's headers, C library and loader, and musl-gcc.
  "musl-tools:musl-gcc"
)

missing=()
for entry in "${required_packages[@]}"; do
  package="${entry%%:*}" probe="${entry#*:}"
  if [[ "$probe" == /* ]]; then
    [[ -e "$probe" ]] || missing+=("$package")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$package")
  fi
done
# XNNPACK's CMake runs a Python script to list its kernels.
command -v python3 >/dev/null 2>&1 || missing+=("python3")

if (( ${#missing[@]} > 0 )); then
  install_command="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ "$(id -u)" != 0 ]]; then
    echo "build.sh: missing Debian packages. Install them as root, then run this again:" >&2
    echo "  sudo apt-get update && sudo $install_command" >&2
    exit 1
  fi
  echo "build.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  $install_command
fi

command -v dotnet >/dev/null 2>&1 || {
  echo "build.sh: the .NET 10 SDK is required (dotnet is not on PATH)." >&2
  exit 1
}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
