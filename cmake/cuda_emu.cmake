# ARCHETYPE_CUDA=EMU (docs/CUDA_EMULATION.md): the CUDA backend's sources,
# kernels/*.cu, rewritten by tests/emu/rewrite.py into C++ (the launch
# syntax and extern __shared__ are the only non-C++ constructs they use) and
# compiled by the host compiler against tests/emu/include, a CPU emulation
# of the CUDA runtime, cub::BlockScan and cub::DeviceRadixSort.  The rest of
# the build is unchanged: the gpu tests, the CLI's --backend cuda and
# gpu_check's parity runs all go through the kernels' own code.
# The emulated runtime's headers, ahead of any real CUDA include directory.
set(ARCHETYPE_CUDA_EMU_INCLUDE ${CMAKE_CURRENT_SOURCE_DIR}/tests/emu/include)
set(_emu_out ${CMAKE_BINARY_DIR}/cuda_emu)
set(_emu_sources)
foreach(_cu ${ARCHETYPE_CUDA_SOURCES})
  get_filename_component(_name ${_cu} NAME_WE)
  set(_cpp ${_emu_out}/${_name}.cpp)
  add_custom_command(OUTPUT ${_cpp}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${_emu_out}
                     COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tests/emu/rewrite.py ${_cu} ${_cpp}
                     DEPENDS ${_cu} ${CMAKE_CURRENT_SOURCE_DIR}/tests/emu/rewrite.py
                     COMMENT "Rewriting ${_name}.cu for the CUDA emulator" VERBATIM)
  list(APPEND _emu_sources ${_cpp})
endforeach()
# The device pass's view: __CUDA_ARCH__ 900 (sm_90 paths such as
# __reduce_add_sync and add_square's __fmaf_rn), the runtime header first,
# and no strict aliasing (float4 loads through float pointers, as on a GPU).
set_source_files_properties(${_emu_sources} PROPERTIES
  COMPILE_DEFINITIONS "__CUDA_ARCH__=900"
  COMPILE_OPTIONS "-include;cuda_runtime.h;-fno-strict-aliasing;-Wno-unused-parameter;-Wno-unknown-pragmas;-Wno-maybe-uninitialized")
set(ARCHETYPE_CUDA_SOURCES ${_emu_sources} ${CMAKE_CURRENT_SOURCE_DIR}/tests/emu/cuda_emu.cpp)
