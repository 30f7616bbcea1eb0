# Shared by the two linux-musl toolchain files: compiles against musl's headers and links
# against musl's C library with the machine's (or the cross) gcc 12, the way Debian's
# musl-gcc does, for C and for C++.
#
# Inputs, set by the toolchain file before including this one:
#   _musl_triple    x86_64-linux-musl or aarch64-linux-musl
#   _musl_root      "" for the machine's own musl (musl-tools), or the unpacked root
#   _musl_loader    the program interpreter, e.g. /lib/ld-musl-x86_64.so.1
#   _musl_cxx       libstdc++'s header folder of the compiler, e.g. /usr/include/c++/12
#   _musl_cxx_arch  its target-specific header folder
#   _musl_kernel    the Linux kernel's user-space headers (linux/, asm-generic/) for the target
#   _musl_kernel_asm  their asm/ folder
set(XNNKLEIDI_MUSL ON)

set(_musl_include "${_musl_root}/usr/include/${_musl_triple}")
# libc.so lies in lib/, the start files and libc.a in usr/lib/. An unpacked root is not
# usr-merged, so lib/ comes first: searched the other way round, the linker finds libc.a
# before libc.so and copies it into the shared library, where pthread_create then fails.
set(_musl_shared_dir "${_musl_root}/lib/${_musl_triple}")
set(_musl_crt_dir "${_musl_root}/usr/lib/${_musl_triple}")
foreach(_musl_file "${_musl_include}/stdio.h" "${_musl_shared_dir}/libc.so" "${_musl_crt_dir}/Scrt1.o")
  if(NOT EXISTS "${_musl_file}")
    message(FATAL_ERROR "${_musl_file} is missing: the musl C library for ${_musl_triple} is not installed or unpacked")
  endif()
endforeach()

execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-file-name=include
  OUTPUT_VARIABLE _musl_gcc_include OUTPUT_STRIP_TRAILING_WHITESPACE)

# musl's headers do not include the kernel's, which pthreadpool needs (linux/futex.h); as
# on a musl distribution, they come from a folder of their own that holds only them,
# linked from Debian's linux-libc-dev of the target (a glibc header folder must stay out).
set(_musl_kernel_include "${CMAKE_BINARY_DIR}/xnnkleidi-${_musl_triple}-kernel-headers")
foreach(_musl_kernel_dir "${_musl_kernel}/linux" "${_musl_kernel}/asm-generic" "${_musl_kernel_asm}")
  if(NOT EXISTS "${_musl_kernel_dir}/types.h")
    message(FATAL_ERROR "${_musl_kernel_dir}/types.h is missing: the Linux kernel headers for ${_musl_triple} are not installed")
  endif()
endforeach()
file(MAKE_DIRECTORY "${_musl_kernel_include}")
file(CREATE_LINK "${_musl_kernel}/linux" "${_musl_kernel_include}/linux" SYMBOLIC)
file(CREATE_LINK "${_musl_kernel}/asm-generic" "${_musl_kernel_include}/asm-generic" SYMBOLIC)
file(CREATE_LINK "${_musl_kernel_asm}" "${_musl_kernel_include}/asm" SYMBOLIC)

# No system header folder but musl's, the kernel's and gcc's own (its intrinsics and stddef.h). libstdc++'s
# headers, configured for glibc, come first for C++: they #include_next the C headers after
# them. They test __GLIBC_PREREQ, which musl does not define; "not glibc" is the answer.
set(_musl_c_includes "-nostdinc -isystem ${_musl_include} -isystem ${_musl_kernel_include} -isystem ${_musl_gcc_include}")
set(CMAKE_C_FLAGS_INIT "${_musl_c_includes}")
set(CMAKE_ASM_FLAGS_INIT "${_musl_c_includes}")
set(CMAKE_CXX_FLAGS_INIT
  "-nostdinc \"-D__GLIBC_PREREQ(major,minor)=0\" -isystem ${_musl_cxx} -isystem ${_musl_cxx_arch} -isystem ${_musl_cxx}/backward ${_musl_c_includes}")

# Linking: a gcc specs file with only the link entries of musl-gcc's, pointing at this root.
# libstdc++ and libgcc are linked statically, always: Debian's libstdc++.so is built for
# glibc. The C++ code XNNPACK links into the library takes nothing from libstdc++ (its
# objects reference C functions only); if it ever did, the link would fail on glibc's
# symbols rather than produce a library that needs glibc.
set(_musl_specs "${CMAKE_BINARY_DIR}/xnnkleidi-${_musl_triple}-link.specs")
file(WRITE "${_musl_specs}"
  "*link_libgcc:\n-L${_musl_shared_dir} -L${_musl_crt_dir} -L .%s\n\n"
  "*libgcc:\nlibgcc.a%s %:if-exists(libgcc_eh.a%s)\n\n"
  "*startfile:\n%{!shared: ${_musl_crt_dir}/Scrt1.o} ${_musl_crt_dir}/crti.o crtbeginS.o%s\n\n"
  "*endfile:\ncrtendS.o%s ${_musl_crt_dir}/crtn.o\n\n"
  "*link:\n-dynamic-linker ${_musl_loader} -nostdlib %{shared:-shared} %{static:-static} %{rdynamic:-export-dynamic}\n\n")
foreach(_musl_kind EXE SHARED MODULE)
  set(CMAKE_${_musl_kind}_LINKER_FLAGS_INIT "-specs=${_musl_specs} -static-libgcc -static-libstdc++")
endforeach()
