# Cross-compiles for linux-arm64 with Debian's aarch64-linux-gnu toolchain
# (gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu).
#
# With XNNKLEIDI_GLIBC231 (the default) it links against the glibc 2.31 sysroot
# that cmake/fetch-sources.sh unpacks from bullseye (XNNKLEIDI_SYSROOT_LINUX_ARM64),
# so the library loads on Debian 11 / RHEL 8 and later; otherwise against the
# cross toolchain's own sysroot (glibc 2.36). Test programs run under the pinned
# qemu-aarch64 (XNNKLEIDI_QEMU_AARCH64, from cmake/sources.lock; never the machine's
# qemu-user-static, which lacks SME2) with the same sysroot; XNNKLEIDI_QEMU_CPU picks
# the CPU model.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

# try_compile projects re-read this file without the cache; pass these along.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES XNNKLEIDI_GLIBC231 XNNKLEIDI_SYSROOT_LINUX_ARM64 XNNKLEIDI_QEMU_AARCH64)
if(NOT DEFINED XNNKLEIDI_GLIBC231)
  set(XNNKLEIDI_GLIBC231 ON)
endif()

if(XNNKLEIDI_GLIBC231 AND XNNKLEIDI_SYSROOT_LINUX_ARM64)
  set(_sysroot "${XNNKLEIDI_SYSROOT_LINUX_ARM64}")
  set(CMAKE_SYSROOT "${_sysroot}")
  # The cross compiler searches its own glibc 2.36 headers (/usr/aarch64-linux-gnu/
  # include) before the sysroot's, and its own libraries before the sysroot's: name
  # the sysroot's first. libstdc++'s headers stay first for C++, because they
  # #include_next the C headers that follow them.
  set(_cxx /usr/aarch64-linux-gnu/include/c++/12)
  set(_c_includes "-isystem ${_sysroot}/usr/include/aarch64-linux-gnu -isystem ${_sysroot}/usr/include")
  set(CMAKE_C_FLAGS_INIT "${_c_includes}")
  set(CMAKE_ASM_FLAGS_INIT "${_c_includes}")
  set(CMAKE_CXX_FLAGS_INIT "-isystem ${_cxx} -isystem ${_cxx}/aarch64-linux-gnu -isystem ${_cxx}/backward ${_c_includes}")
  # Not global linker flags: native/CMakeLists.txt applies them to the library, its
  # programs and the configure checks, while the XNNPACK kernel tests (C++, with gcc
  # 12's libstdc++, which needs glibc 2.32 or later) link against the cross
  # toolchain's glibc and run on it.
  set(XNNKLEIDI_SYSROOT_LINK_OPTIONS
    "-L${_sysroot}/usr/lib/aarch64-linux-gnu" "-L${_sysroot}/lib/aarch64-linux-gnu")
  set(XNNKLEIDI_ARM64_RUNTIME_ROOT "${_sysroot}")
else()
  set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
  set(XNNKLEIDI_ARM64_RUNTIME_ROOT /usr/aarch64-linux-gnu)
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

if(NOT DEFINED XNNKLEIDI_QEMU_CPU)
  set(XNNKLEIDI_QEMU_CPU max)
endif()
if(NOT XNNKLEIDI_QEMU_AARCH64)
  message(FATAL_ERROR "XNNKLEIDI_QEMU_AARCH64 is not set: configure with `cmake -C <file written by "
                      "cmake/fetch-sources.sh>`, which unpacks the pinned QEMU, or run ./build.sh --target=Native.")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR "${XNNKLEIDI_QEMU_AARCH64}" -L "${XNNKLEIDI_ARM64_RUNTIME_ROOT}" -cpu "${XNNKLEIDI_QEMU_CPU}")
