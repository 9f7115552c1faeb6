# The Python package (docs/PYTHON.md): the pybind11 extension module
# archetype._archetype (C++ in src/python/, a client layer above the CLI)
# and the pure-Python files of python/archetype/, assembled in
# <build>/python/archetype/ so that `PYTHONPATH=<build>/python` imports it.
#
#   ARCHETYPE_PYTHON=AUTO  build it when Python 3 (Development.Module) and
#                          pybind11 (Debian: python3-dev, pybind11-dev) are found
#   ARCHETYPE_PYTHON=ON    the same, or fail;  OFF: never
#
# Python is Debian's /usr/bin/python3 unless Python3_EXECUTABLE says
# otherwise (`pip install .` through scikit-build-core passes the
# installing interpreter).
set(ARCHETYPE_PYTHON "AUTO" CACHE STRING "Build the Python package: AUTO (when pybind11 and Python 3 are found), ON or OFF")
set_property(CACHE ARCHETYPE_PYTHON PROPERTY STRINGS AUTO ON OFF)

set(ARCHETYPE_WITH_PYTHON OFF)
# Under ASan/UBSan or libFuzzer (scripts/sanitize.sh, fuzz.sh) AUTO builds
# no package: an instrumented extension needs the sanitizer runtime
# preloaded into Python, and the engine it links is tested there by C++.
if(ARCHETYPE_PYTHON STREQUAL "AUTO" AND (ARCHETYPE_SANITIZE OR ARCHETYPE_FUZZ))
  message(STATUS "Archetype Python package: OFF (AUTO, in a sanitizer or fuzz build)")
  return()
endif()
if(NOT ARCHETYPE_PYTHON STREQUAL "OFF")
  if(NOT DEFINED Python3_EXECUTABLE AND NOT DEFINED SKBUILD AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module)
  if(Python3_FOUND)
    find_package(pybind11 2.10 CONFIG)  # uses the Python3 found above (pybind11NewTools)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(ARCHETYPE_WITH_PYTHON ON)
  elseif(ARCHETYPE_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "ARCHETYPE_PYTHON=ON but Python 3 (Development.Module) or pybind11 was not found "
                        "(Debian: apt-get install python3-dev pybind11-dev)")
  endif()
endif()
message(STATUS "Archetype Python package: ${ARCHETYPE_WITH_PYTHON} (ARCHETYPE_PYTHON=${ARCHETYPE_PYTHON})")
if(NOT ARCHETYPE_WITH_PYTHON)
  return()
endif()

# The extension links the static libraries: they must be position-independent.
set_target_properties(archetype_core PROPERTIES POSITION_INDEPENDENT_CODE ON)

set(ARCHETYPE_PYTHON_PACKAGE_DIR ${CMAKE_BINARY_DIR}/python/archetype)
# No link-time optimization: pybind11 would add -flto for the binding's own
# few files only (the libraries are not LTO objects), at the cost of a
# serial LTO link.
if(NOT DEFINED CMAKE_INTERPROCEDURAL_OPTIMIZATION)
  set(CMAKE_INTERPROCEDURAL_OPTIMIZATION OFF)
endif()
file(GLOB ARCHETYPE_PYTHON_BINDING_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/python/*.cpp)
pybind11_add_module(archetype_python MODULE ${ARCHETYPE_PYTHON_BINDING_SOURCES})
set_target_properties(archetype_python PROPERTIES OUTPUT_NAME _archetype
                                                  LIBRARY_OUTPUT_DIRECTORY ${ARCHETYPE_PYTHON_PACKAGE_DIR})
target_include_directories(archetype_python PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(archetype_python PRIVATE archetype_core)
target_compile_definitions(archetype_python PRIVATE ARCHETYPE_VERSION="${PROJECT_VERSION}")

# The pure-Python files, and what the study reads at run time (the persona
# catalog, the reference dataset, the figure script) under share/, where
# archetype.study() points ARCHETYPE_DATA_DIR / ARCHETYPE_SCRIPTS_DIR: an
# installed package does not depend on the source tree.  Copied at build
# time, so an edit shows up after the next build.
file(GLOB ARCHETYPE_PYTHON_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/python/archetype/*.py)
set(ARCHETYPE_PYTHON_SHARE_DATA data/personas.json data/instagram_visits_clustering.csv data/README.md)
set(ARCHETYPE_PYTHON_SHARE_SCRIPTS scripts/figures.py)
set(ARCHETYPE_PYTHON_COPIES)
foreach(f IN LISTS ARCHETYPE_PYTHON_FILES)
  get_filename_component(name ${f} NAME)
  list(APPEND ARCHETYPE_PYTHON_COPIES ${f} ${ARCHETYPE_PYTHON_PACKAGE_DIR}/${name})
endforeach()
foreach(f IN LISTS ARCHETYPE_PYTHON_SHARE_DATA ARCHETYPE_PYTHON_SHARE_SCRIPTS)
  list(APPEND ARCHETYPE_PYTHON_COPIES ${CMAKE_CURRENT_SOURCE_DIR}/${f} ${ARCHETYPE_PYTHON_PACKAGE_DIR}/share/${f})
endforeach()
set(ARCHETYPE_PYTHON_OUTPUTS)
while(ARCHETYPE_PYTHON_COPIES)
  list(POP_FRONT ARCHETYPE_PYTHON_COPIES from to)
  add_custom_command(OUTPUT ${to} COMMAND ${CMAKE_COMMAND} -E copy_if_different ${from} ${to}
                     DEPENDS ${from} VERBATIM)
  list(APPEND ARCHETYPE_PYTHON_OUTPUTS ${to})
endwhile()
add_custom_target(archetype_python_files ALL DEPENDS ${ARCHETYPE_PYTHON_OUTPUTS})
add_dependencies(archetype_python archetype_python_files)

# Install: the package directory as it is in the build tree, under
# ARCHETYPE_PYTHON_INSTALL_DIR (relative to the prefix).  The default,
# lib/python3.X/dist-packages, is on Debian's sys.path for the default
# prefix /usr/local; scikit-build-core (pip) installs into the wheel's
# root.  Component `python`: `pip install .` installs only this.
if(DEFINED SKBUILD)
  set(ARCHETYPE_PYTHON_INSTALL_DEFAULT ".")
else()
  set(ARCHETYPE_PYTHON_INSTALL_DEFAULT
      "lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/dist-packages")
endif()
set(ARCHETYPE_PYTHON_INSTALL_DIR "${ARCHETYPE_PYTHON_INSTALL_DEFAULT}" CACHE STRING
    "Where `cmake --install` puts the archetype Python package, relative to the prefix")
install(TARGETS archetype_python LIBRARY DESTINATION ${ARCHETYPE_PYTHON_INSTALL_DIR}/archetype COMPONENT python)
install(FILES ${ARCHETYPE_PYTHON_FILES} DESTINATION ${ARCHETYPE_PYTHON_INSTALL_DIR}/archetype COMPONENT python)
install(FILES ${ARCHETYPE_PYTHON_SHARE_DATA} DESTINATION ${ARCHETYPE_PYTHON_INSTALL_DIR}/archetype/share/data
        COMPONENT python)
install(FILES ${ARCHETYPE_PYTHON_SHARE_SCRIPTS} DESTINATION ${ARCHETYPE_PYTHON_INSTALL_DIR}/archetype/share/scripts
        COMPONENT python)

# Tests (label `python`): the pytest files of tests/python/, one ctest each,
# with Debian's Python and the package of this build tree; and the package
# installed by `cmake --install` into a scratch prefix, imported from there.
if(ARCHETYPE_BUILD_TESTS)
  execute_process(COMMAND ${Python3_EXECUTABLE} -c "import pytest, numpy"
                  RESULT_VARIABLE ARCHETYPE_HAVE_PYTEST OUTPUT_QUIET ERROR_QUIET)
  if(ARCHETYPE_HAVE_PYTEST EQUAL 0)
    file(GLOB ARCHETYPE_PYTHON_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/python/test_*.py)
    foreach(test_file IN LISTS ARCHETYPE_PYTHON_TESTS)
      get_filename_component(stem ${test_file} NAME_WE)
      string(REGEX REPLACE "^test_" "python_" test_name ${stem})
      add_test(NAME ${test_name}
               COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${test_file}
               WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/tests/python)
      set_tests_properties(${test_name} PROPERTIES LABELS python TIMEOUT 120
        ENVIRONMENT "PYTHONPATH=${CMAKE_BINARY_DIR}/python;ARCHETYPE_CLI=$<TARGET_FILE:archetype>;PYTHONDONTWRITEBYTECODE=1")
    endforeach()
  else()
    message(STATUS "Python package tests skipped: ${Python3_EXECUTABLE} lacks pytest or numpy (python3-pytest)")
  endif()
  add_test(NAME python_install
           COMMAND bash -c "set -e; p=$(mktemp -d); trap 'rm -rf $p' EXIT; \
cmake --install '${CMAKE_BINARY_DIR}' --component python --prefix $p >/dev/null; cd $p; \
PYTHONPATH=$p/${ARCHETYPE_PYTHON_INSTALL_DIR} ARCHETYPE_DATA_DIR= ARCHETYPE_SCRIPTS_DIR= PYTHONDONTWRITEBYTECODE=1 \
'${Python3_EXECUTABLE}' -c \"import archetype, numpy as np, os; \
assert archetype.__file__.startswith('$p/'), archetype.__file__; \
km = archetype.KMeans(3, random_state=0).fit(np.random.default_rng(0).normal(size=(300, 2))); \
s = archetype.study(n_init=2); \
assert s.result.input.path.startswith('$p/'), s.result.input.path; \
assert s.k == 5 and len(s.labels) == s.result.input.rows; print('python_install: ok')\"")
  set_tests_properties(python_install PROPERTIES LABELS python TIMEOUT 120 PASS_REGULAR_EXPRESSION "python_install: ok")
endif()
