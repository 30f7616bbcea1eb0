# Builds linux-musl-x64 (Alpine and other musl distributions) with Debian's musl-tools
# (musl 1.2.3: musl-gcc, the headers in /usr/include/x86_64-linux-musl, the C library in
# /lib/x86_64-linux-musl; build.sh installs it). C compiles with musl-gcc, C++ with the
# machine's g++ over musl's headers (cmake/linux-musl.cmake). The programs run natively:
# their interpreter is musl's loader, /lib/ld-musl-x86_64.so.1.
set(CMAKE_C_COMPILER musl-gcc)
set(CMAKE_CXX_COMPILER g++)

set(_musl_triple x86_64-linux-musl)
set(_musl_root "")
set(_musl_loader /lib/ld-musl-x86_64.so.1)
set(_musl_cxx /usr/include/c++/12)
set(_musl_cxx_arch /usr/include/x86_64-linux-gnu/c++/12)
set(_musl_kernel /usr/include)
set(_musl_kernel_asm /usr/include/x86_64-linux-gnu/asm)
include("${CMAKE_CURRENT_LIST_DIR}/linux-musl.cmake")
