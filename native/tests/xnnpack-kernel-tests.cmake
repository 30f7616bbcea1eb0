# XNNPACK's own unit tests for the kernels this project depends on, built in the
# library's own build tree, with Debian's googletest: the production kernels they
# exercise are the very objects (microkernels-prod) linked into libxnnkleidi.so, so
# only the tests, googletest and the few non-production kernels below are compiled
# for them.
#
# They prove that XNNPACK 4ea82e5 works with the KleidiAI we link (1.8.0, where
# XNNPACK pinned 0.3.0): the QP8 GEMMs (qc4w, qb4w), the x8-packq activation packer
# and the QD8 GEMMs (qc8w, qc4w) that run when packing is off.
#
# XNNPACK links every test against `microkernels-all`, which is its whole kernel
# set (about 3,500 compile steps for arm64, more for x86-64). These tests only
# reference the kernel families below, so the library is cut down to them; that
# keeps this build to a few hundred steps.
set(XNNKLEIDI_XNNPACK_KERNEL_FAMILIES
  qd8-f32-qc8w-gemm qd8-f32-qc4w-gemm qp8-f32-qc4w-gemm qp8-f32-qb4w-gemm x8-packq)
set(XNNKLEIDI_XNNPACK_KERNEL_TESTS
  qd8-f32-qc8w-gemm-minmax-test qd8-f32-qc4w-gemm-minmax-test x8-packq-test)
if(XNNKLEIDI_TARGET_ARM64)
  # The QP8 kernels exist only with KleidiAI, which is Arm-only.
  list(APPEND XNNKLEIDI_XNNPACK_KERNEL_TESTS qp8-f32-qc4w-gemm-minmax-test qp8-f32-qb4w-gemm-minmax-test)
endif()

get_target_property(_all_kernel_sources microkernels-all SOURCES)
set(_kept_kernel_sources)
foreach(source IN LISTS _all_kernel_sources)
  foreach(family IN LISTS XNNKLEIDI_XNNPACK_KERNEL_FAMILIES)
    if(source MATCHES "(^|/)src/${family}/")
      list(APPEND _kept_kernel_sources "${source}")
      break()
    endif()
  endforeach()
endforeach()
list(LENGTH _all_kernel_sources _all_count)
list(LENGTH _kept_kernel_sources _kept_count)
message(STATUS "XNNPACK kernel tests: ${_kept_count} of ${_all_count} non-production kernel sources kept")
set_property(TARGET microkernels-all PROPERTY SOURCES ${_kept_kernel_sources})

# The tests are C++ on gcc 12's libstdc++, which needs glibc 2.32 or later, so they
# are not linked against the glibc 2.31 sysroot like the library (compiling against
# its headers is fine): the last --sysroot wins, and "/" is the toolchain's own
# (this machine's glibc for x86-64, the cross toolchain's in /usr/aarch64-linux-gnu
# for arm64), which is also the one they run on.
if(XNNKLEIDI_SYSROOT_LINK_OPTIONS)
  set(_kernel_test_link_options --sysroot=/)
else()
  set(_kernel_test_link_options)
endif()
if(XNNKLEIDI_TARGET_ARM64)
  # The toolchain's emulator, on the cross toolchain's glibc rather than the sysroot's.
  # `max` has dotprod and i8mm, so every Arm kernel variant runs instead of skipping.
  list(GET CMAKE_CROSSCOMPILING_EMULATOR 0 _kernel_test_emulator)
  set(_kernel_test_launcher "${_kernel_test_emulator}" -L /usr/aarch64-linux-gnu -cpu max)
elseif(MINGW)
  # Under Wine (the toolchain's emulator). Linked fully static, like the DLL, so that no MinGW runtime DLL
  # (libstdc++, libgcc, winpthread) has to be found beside the programs.
  set(_kernel_test_launcher ${CMAKE_CROSSCOMPILING_EMULATOR})
  list(APPEND _kernel_test_link_options -static)
else()
  set(_kernel_test_launcher)
endif()

add_custom_target(xnnkleidi-kernel-tests)
foreach(test_target IN LISTS XNNKLEIDI_XNNPACK_KERNEL_TESTS)
  if(NOT TARGET ${test_target})
    message(FATAL_ERROR "XNNPACK defines no test target '${test_target}'")
  endif()
  add_dependencies(xnnkleidi-kernel-tests ${test_target})
  target_link_options(${test_target} PRIVATE ${_kernel_test_link_options})
  # XNNPACK registers its own tests without labels; ours carry one so that
  # `ctest -L xnnpack-kernels` runs exactly these.
  add_test(NAME kernels-${test_target}
    COMMAND ${_kernel_test_launcher} $<TARGET_FILE:${test_target}> --gtest_brief=1)
  set_tests_properties(kernels-${test_target} PROPERTIES LABELS xnnpack-kernels)
endforeach()
