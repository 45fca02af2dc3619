# Test-only helpers for the FetchContent and add_subdirectory consumers: a
# parent project that takes mfakit in as a sub-project must not inherit
# anything from it. Each check ends the configure step with FATAL_ERROR, so
# the CTest test fails when something leaks.
#
#   mfakit_snapshot(<prefix>)          before mfakit is added
#   mfakit_assert_no_leaks(<prefix> <mfakit source dir> [INSTALL_ASKED])
#                                      after; INSTALL_ASKED when the parent set
#                                      MFAKIT_INSTALL=ON itself

set(_mfakit_watched_variables
  CMAKE_CXX_FLAGS CMAKE_CXX_FLAGS_DEBUG CMAKE_CXX_FLAGS_RELEASE CMAKE_CXX_FLAGS_RELWITHDEBINFO
  CMAKE_EXE_LINKER_FLAGS CMAKE_SHARED_LINKER_FLAGS
  CMAKE_CXX_STANDARD CMAKE_CXX_STANDARD_REQUIRED CMAKE_CXX_EXTENSIONS
  CMAKE_CXX_CLANG_TIDY CMAKE_CXX_INCLUDE_WHAT_YOU_USE CMAKE_COMPILE_WARNING_AS_ERROR
  CMAKE_MODULE_PATH CMAKE_POSITION_INDEPENDENT_CODE CMAKE_INTERPROCEDURAL_OPTIMIZATION
  CMAKE_VERIFY_INTERFACE_HEADER_SETS BUILD_SHARED_LIBS)
set(_mfakit_watched_directory_properties
  COMPILE_OPTIONS COMPILE_DEFINITIONS INCLUDE_DIRECTORIES LINK_OPTIONS LINK_DIRECTORIES)

macro(mfakit_snapshot prefix)
  foreach(_v IN LISTS _mfakit_watched_variables)
    set(${prefix}_defined_${_v} FALSE)
    if(DEFINED ${_v})
      set(${prefix}_defined_${_v} TRUE)
    endif()
    set(${prefix}_value_${_v} "${${_v}}")
  endforeach()
  foreach(_p IN LISTS _mfakit_watched_directory_properties)
    get_directory_property(${prefix}_dir_${_p} ${_p})
  endforeach()
  set(${prefix}_building_testing_defined FALSE)
  if(DEFINED BUILD_TESTING OR DEFINED CACHE{BUILD_TESTING})
    set(${prefix}_building_testing_defined TRUE)
  endif()
endmacro()

# All build-system targets and tests defined in a directory and below.
function(_mfakit_collect dir out_targets out_tests out_dirs)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(tests DIRECTORY "${dir}" PROPERTY TESTS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  set(dirs "${subdirs}")
  foreach(sub IN LISTS subdirs)
    _mfakit_collect("${sub}" t s d)
    list(APPEND targets ${t})
    list(APPEND tests ${s})
    list(APPEND dirs ${d})
  endforeach()
  set(${out_targets} "${targets}" PARENT_SCOPE)
  set(${out_tests} "${tests}" PARENT_SCOPE)
  set(${out_dirs} "${dirs}" PARENT_SCOPE)
endfunction()

function(mfakit_assert_no_leaks prefix mfakit_dir)
  set(install_asked FALSE)
  if("INSTALL_ASKED" IN_LIST ARGN)
    set(install_asked TRUE)
  endif()
  set(problems "")

  # 1. nothing global changed in the parent
  foreach(v IN LISTS _mfakit_watched_variables)
    set(now_defined FALSE)
    if(DEFINED ${v})
      set(now_defined TRUE)
    endif()
    if(NOT "${now_defined}" STREQUAL "${${prefix}_defined_${v}}" OR NOT "${${v}}" STREQUAL "${${prefix}_value_${v}}")
      list(APPEND problems "variable ${v} changed from '${${prefix}_value_${v}}' to '${${v}}'")
    endif()
  endforeach()
  foreach(p IN LISTS _mfakit_watched_directory_properties)
    get_directory_property(now ${p})
    if(NOT "${now}" STREQUAL "${${prefix}_dir_${p}}")
      list(APPEND problems "directory property ${p} changed to '${now}'")
    endif()
  endforeach()

  # 2. no CTest: include(CTest) would define BUILD_TESTING for the parent
  if(NOT "${${prefix}_building_testing_defined}" AND (DEFINED BUILD_TESTING OR DEFINED CACHE{BUILD_TESTING}))
    list(APPEND problems "BUILD_TESTING is now defined (${BUILD_TESTING}): include(CTest) leaked")
  endif()

  # 3. only the library targets (the core and the store components, whose
  #    dependencies this machine has), no tests, examples, benchmarks or
  #    sub-folders
  _mfakit_collect("${mfakit_dir}" targets tests dirs)
  list(SORT targets)
  if(NOT targets STREQUAL "mfakit;mfakit_postgresql;mfakit_sqlite")
    list(JOIN targets ", " targets)
    list(APPEND problems "mfakit defined the targets '${targets}', expected only 'mfakit', 'mfakit_postgresql', 'mfakit_sqlite'")
  endif()
  if(tests)
    list(JOIN tests ", " tests)
    list(APPEND problems "mfakit registered tests: ${tests}")
  endif()
  if(dirs)
    list(JOIN dirs ", " dirs)
    list(APPEND problems "mfakit added sub-directories: ${dirs}")
  endif()
  foreach(option MFAKIT_BUILD_TESTS MFAKIT_BUILD_EXAMPLES MFAKIT_BUILD_BENCHMARKS MFAKIT_BUILD_FUZZERS)
    if(${option})
      list(APPEND problems "${option} is ON in a sub-project build")
    endif()
  endforeach()
  if(MFAKIT_INSTALL AND NOT install_asked)
    list(APPEND problems "MFAKIT_INSTALL is ON although the parent did not ask for it")
  endif()

  # 4. no flags, definitions or warnings imposed through the target
  if(NOT TARGET mfakit::mfakit)
    list(APPEND problems "mfakit::mfakit is missing")
  else()
    foreach(target mfakit mfakit_sqlite mfakit_postgresql)
      if(NOT TARGET ${target})
        continue()
      endif()
      foreach(prop INTERFACE_COMPILE_OPTIONS INTERFACE_COMPILE_DEFINITIONS INTERFACE_LINK_OPTIONS)
        get_target_property(value ${target} ${prop})
        if(value)
          list(APPEND problems "${target} imposes ${prop}: ${value}")
        endif()
      endforeach()
    endforeach()
    get_target_property(verify mfakit VERIFY_INTERFACE_HEADER_SETS)
    if(verify)
      list(APPEND problems "VERIFY_INTERFACE_HEADER_SETS is ON in a sub-project build")
    endif()
  endif()

  if(problems)
    list(JOIN problems "\n  - " text)
    message(FATAL_ERROR "mfakit leaked into the parent project:\n  - ${text}")
  endif()
  message(STATUS "mfakit leak checks passed")
endfunction()
