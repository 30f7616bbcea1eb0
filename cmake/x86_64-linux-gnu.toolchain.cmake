# Builds linux-x64 with the machine's gcc against the glibc 2.31 sysroot that
# cmake/fetch-sources.sh unpacks from bullseye (XNNKLEIDI_SYSROOT_LINUX_X64), the
# way manylinux images link against an old C library: the library then loads on
# Debian 11 / RHEL 8 and later. Set XNNKLEIDI_GLIBC231=OFF to link against this
# machine's own glibc instead.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES XNNKLEIDI_GLIBC231 XNNKLEIDI_SYSROOT_LINUX_X64)
if(NOT DEFINED XNNKLEIDI_GLIBC231)
  set(XNNKLEIDI_GLIBC231 ON)
endif()

set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)

if(XNNKLEIDI_GLIBC231 AND XNNKLEIDI_SYSROOT_LINUX_X64)
  set(_sysroot "${XNNKLEIDI_SYSROOT_LINUX_X64}")
  set(CMAKE_SYSROOT "${_sysroot}")
  # gcc finds its C++ headers outside the sysroot: name them.
  set(CMAKE_CXX_FLAGS_INIT "-isystem /usr/include/c++/12 -isystem /usr/include/x86_64-linux-gnu/c++/12")
  # gcc also searches the machine's own library folders before the sysroot's, so
  # --sysroot alone still links this machine's glibc: what must load on 2.31 names
  # the sysroot's folders first. These are not global linker flags, because the
  # XNNPACK kernel tests (C++, with gcc 12's libstdc++, which needs glibc 2.32 or
  # later) link against this machine's glibc; native/CMakeLists.txt applies them to
  # the library, its programs and the configure checks.
  set(XNNKLEIDI_SYSROOT_LINK_OPTIONS
    "-L${_sysroot}/usr/lib/x86_64-linux-gnu" "-L${_sysroot}/lib/x86_64-linux-gnu")
endif()
