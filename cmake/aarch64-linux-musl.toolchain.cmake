# Cross-compiles linux-musl-arm64 with Debian's aarch64-linux-gnu gcc 12 against bookworm's
# musl 1.2.3 for arm64 (musl and musl-dev, pinned in cmake/sources.lock and unpacked by
# cmake/fetch-sources.sh into XNNKLEIDI_SYSROOT_LINUX_MUSL_ARM64). Test programs run under
# the pinned qemu-aarch64 with that root as their library root (-L), so musl's own loader
# runs them; XNNKLEIDI_QEMU_CPU picks the CPU model.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

# try_compile projects re-read this file without the cache; pass these along.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES XNNKLEIDI_SYSROOT_LINUX_MUSL_ARM64 XNNKLEIDI_QEMU_AARCH64)
if(NOT IS_DIRECTORY "${XNNKLEIDI_SYSROOT_LINUX_MUSL_ARM64}")
  message(FATAL_ERROR "XNNKLEIDI_SYSROOT_LINUX_MUSL_ARM64 is not set: configure with `cmake -C <file written by "
                      "cmake/fetch-sources.sh>`, which unpacks musl for arm64, or run ./build.sh --target=Native.")
endif()

set(_musl_triple aarch64-linux-musl)
set(_musl_root "${XNNKLEIDI_SYSROOT_LINUX_MUSL_ARM64}")
set(_musl_loader /lib/ld-musl-aarch64.so.1)
set(_musl_cxx /usr/aarch64-linux-gnu/include/c++/12)
set(_musl_cxx_arch /usr/aarch64-linux-gnu/include/c++/12/aarch64-linux-gnu)
# linux-libc-dev-arm64-cross, which libc6-dev-arm64-cross brings.
set(_musl_kernel /usr/aarch64-linux-gnu/include)
set(_musl_kernel_asm /usr/aarch64-linux-gnu/include/asm)
include("${CMAKE_CURRENT_LIST_DIR}/linux-musl.cmake")

set(CMAKE_FIND_ROOT_PATH "${_musl_root}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(XNNKLEIDI_ARM64_RUNTIME_ROOT "${_musl_root}")
if(NOT DEFINED XNNKLEIDI_QEMU_CPU)
  set(XNNKLEIDI_QEMU_CPU max)
endif()
if(NOT XNNKLEIDI_QEMU_AARCH64)
  message(FATAL_ERROR "XNNKLEIDI_QEMU_AARCH64 is not set: configure with `cmake -C <file written by "
                      "cmake/fetch-sources.sh>`, which unpacks the pinned QEMU, or run ./build.sh --target=Native.")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR "${XNNKLEIDI_QEMU_AARCH64}" -L "${_musl_root}" -cpu "${XNNKLEIDI_QEMU_CPU}")
