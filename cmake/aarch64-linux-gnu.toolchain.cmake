# Cross-compiles for linux-arm64 with Debian's aarch64-linux-gnu toolchain
# (gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu; sysroot /usr/aarch64-linux-gnu).
# Test programs run under qemu-user-static; XNNKLEIDI_QEMU_CPU picks the CPU model.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

set(XNNKLEIDI_SYSROOT /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH "${XNNKLEIDI_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

if(NOT DEFINED XNNKLEIDI_QEMU_CPU)
  set(XNNKLEIDI_QEMU_CPU max)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L "${XNNKLEIDI_SYSROOT}" -cpu "${XNNKLEIDI_QEMU_CPU}")
