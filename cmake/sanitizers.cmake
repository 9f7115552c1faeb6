# Sanitizer and fuzzing builds (README, "Sanitizers and fuzzing").
#
# ARCHETYPE_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer on
# every C++ file (library, CLI, tests), so that ctest fails on a leak, an
# out-of-bounds access or undefined behaviour.  -fno-sanitize-recover makes
# UB abort instead of printing and carrying on, which ctest would not see.
#
# ARCHETYPE_FUZZ=ON: the libFuzzer targets of tests/fuzz; the same
# sanitizers, plus libFuzzer's coverage instrumentation of the library
# (fuzzer-no-link: the library has no main() of libFuzzer's).  Needs clang.
#
# Both are CPU-only: the CUDA runtime and ASan's shadow memory do not mix,
# and nvcc does not take these flags.
option(ARCHETYPE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer (CPU only)" OFF)
option(ARCHETYPE_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only, CPU only)" OFF)

if(NOT ARCHETYPE_SANITIZE AND NOT ARCHETYPE_FUZZ)
  return()
endif()

if(ARCHETYPE_WITH_CUDA AND NOT ARCHETYPE_CUDA_EMU)
  message(FATAL_ERROR "ARCHETYPE_SANITIZE / ARCHETYPE_FUZZ build the CPU code only: configure with -DARCHETYPE_CUDA=OFF (or EMU: the CUDA backend on the CPU emulation)")
endif()

set(ARCHETYPE_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
if(ARCHETYPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ARCHETYPE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  list(APPEND ARCHETYPE_SANITIZER_FLAGS -fsanitize=fuzzer-no-link)
endif()

add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${ARCHETYPE_SANITIZER_FLAGS}>")
# One copy of the hot CPU kernels instead of the AVX-512/AVX2/baseline
# clones (src/engine/cpu_clones.hpp): the same source, a third of the
# compile time of those files.  Their run-time branches (lane_squares.hpp)
# still both compile into the one copy.
add_compile_definitions(ARCHETYPE_NO_CLONES)
add_link_options(-fsanitize=address,undefined)
message(STATUS "Archetype sanitizers: ${ARCHETYPE_SANITIZER_FLAGS}")
