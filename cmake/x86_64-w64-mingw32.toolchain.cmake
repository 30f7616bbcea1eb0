# Cross-compiles for win-x64 with Debian's MinGW-w64 toolchain (gcc-mingw-w64-x86-64-posix,
# g++-mingw-w64-x86-64-posix; build.sh installs them). The posix flavour carries winpthreads,
# which cpuinfo and pthreadpool use; native/CMakeLists.txt links it, libgcc and libstdc++
# statically, so that libxnnkleidi.dll imports nothing but Windows system DLLs.
#
# Test programs run under Wine through cmake/run-under-wine.sh, which keeps its prefix in the
# cache folder (never in the work tree) and ends the wineserver it started.
set(CMAKE_SYSTEM_NAME Windows)
# XNNPACK recognises Windows x64 by this spelling.
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_ASM_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

get_filename_component(_xnnkleidi_cmake_dir "${CMAKE_CURRENT_LIST_FILE}" DIRECTORY)
set(CMAKE_CROSSCOMPILING_EMULATOR bash "${_xnnkleidi_cmake_dir}/run-under-wine.sh")
