# Driver for the consumer tests (cmake -P). Each MODE builds a small project
# the way a user would take mfakit in, runs the program it builds and checks
# what it printed, then checks what the build left behind. No network: git
# clones use file://, the tarball is made locally, OpenSSL and fmt are the
# system's.
#
# Variables (all set by tests/package/CMakeLists.txt):
#   MODE              install | find_package | version | fetch_git | fetch_url |
#                     add_subdirectory | add_subdirectory_install | pkg_config |
#                     conan_test_package | vcpkg_port
#   SOURCE_DIR        the mfakit checkout
#   PACKAGE_DIR       tests/package
#   WORK_ROOT         scratch root in the build tree; WORK_ROOT/prefix is the
#                     shared install made by MODE=install (a CTest fixture)
#   EXPECTED_VERSION  PROJECT_VERSION of mfakit
#   CXX_COMPILER, GENERATOR, MAKE_PROGRAM, GIT, PKG_CONFIG, MAKE
#   PG_CONNINFO       the PostgreSQL server of the tests (the fixture
#                     mfakit_demo_postgres): the store consumers run the
#                     conformance suite on it as well as on SQLite

cmake_minimum_required(VERSION 3.23)

foreach(var MODE SOURCE_DIR PACKAGE_DIR WORK_ROOT EXPECTED_VERSION CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()

set(PREFIX "${WORK_ROOT}/prefix")
set(WORK "${WORK_ROOT}/${MODE}")
set(EXPECTED_OUTPUT "mfakit ${EXPECTED_VERSION} consumer ok")
if(NOT PG_CONNINFO)
  message(FATAL_ERROR "run_consumer.cmake: PG_CONNINFO is not set (the store consumers need the PostgreSQL fixture)")
endif()

# --- helpers --------------------------------------------------------------------

# run(<what> COMMAND ... [WORKING_DIRECTORY d] [EXPECT_FAILURE] [OUTPUT_VARIABLE v])
function(run what)
  cmake_parse_arguments(arg "EXPECT_FAILURE" "WORKING_DIRECTORY;OUTPUT_VARIABLE" "COMMAND" ${ARGN})
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY "${WORK}")
  endif()
  message(STATUS "${what}")
  execute_process(COMMAND ${arg_COMMAND}
    WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(arg_EXPECT_FAILURE)
    if(rc EQUAL 0)
      message(FATAL_ERROR "${what}: expected a failure, but it succeeded\n${out}\n${err}")
    endif()
  elseif(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: failed (${rc})\n--- command: ${arg_COMMAND}\n--- stdout:\n${out}\n--- stderr:\n${err}")
  endif()
  if(arg_OUTPUT_VARIABLE)
    set(${arg_OUTPUT_VARIABLE} "${out}${err}" PARENT_SCOPE)
  endif()
endfunction()

function(fresh_dir dir)
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
endfunction()

# Copies a consumer project and the shared program into WORK/src.
function(stage_consumer project_dir)
  fresh_dir("${WORK}")
  file(COPY "${project_dir}/" DESTINATION "${WORK}/src")
  file(COPY "${PACKAGE_DIR}/consumer/main.cpp" "${PACKAGE_DIR}/consumer/stores.cpp" "${PACKAGE_DIR}/common/no_leaks.cmake"
    DESTINATION "${WORK}/src")
endfunction()

set(common_configure_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON)
if(MAKE_PROGRAM)
  list(APPEND common_configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

# configure_build_run(<extra configure args>... [STORES]): WORK/src ->
# WORK/build, then runs WORK/build/<PROGRAM> (default consumer) and checks its
# output; with STORES, WORK/build/stores too (check_stores).
function(configure_build_run)
  cmake_parse_arguments(arg "STORES" "PROGRAM;EXPECT" "" ${ARGN})
  if(NOT arg_PROGRAM)
    set(arg_PROGRAM consumer)
  endif()
  if(NOT arg_EXPECT)
    set(arg_EXPECT "${EXPECTED_OUTPUT}")
  endif()
  run("configure ${MODE} consumer" COMMAND "${CMAKE_COMMAND}" -S "${WORK}/src" -B "${WORK}/build"
    ${common_configure_args} ${arg_UNPARSED_ARGUMENTS})
  run("build ${MODE} consumer" COMMAND "${CMAKE_COMMAND}" --build "${WORK}/build")
  check_program("${WORK}/build/${arg_PROGRAM}" "${arg_EXPECT}")
  if(arg_STORES)
    check_stores("${WORK}/build/stores")
  endif()
endfunction()

# The store consumer (consumer/stores.cpp): the conformance suite on a fresh
# SQLite file and on the tests' PostgreSQL server, in a table of its own.
function(check_stores exe)
  set(db "${WORK}/stores.sqlite")
  file(REMOVE "${db}" "${db}-wal" "${db}-shm")
  string(MAKE_C_IDENTIFIER "consumer_${MODE}" table)
  string(TOLOWER "${table}" table)
  run("run ${exe}" COMMAND "${exe}" "${db}" "${PG_CONNINFO}" "${table}" OUTPUT_VARIABLE out)
  string(STRIP "${out}" out)
  set(expected "mfakit ${EXPECTED_VERSION} stores ok: sqlite postgresql")
  if(NOT out STREQUAL expected)
    message(FATAL_ERROR "${exe} printed '${out}', expected '${expected}'")
  endif()
  message(STATUS "${exe}: ${out}")
endfunction()

# The files the store components add to an install (share/cmake/mfakit for
# CMAKE_DIR, share/pkgconfig).
function(component_files cmake_dir out)
  set(files "")
  foreach(c sqlite postgresql)
    list(APPEND files "${cmake_dir}/mfakit-${c}-targets.cmake" "share/pkgconfig/mfakit-${c}.pc")
  endforeach()
  set(${out} "${files}" PARENT_SCOPE)
endfunction()

function(check_program exe expected)
  run("run ${exe}" COMMAND "${exe}" OUTPUT_VARIABLE out)
  string(STRIP "${out}" out)
  if(NOT out STREQUAL expected)
    message(FATAL_ERROR "${exe} printed '${out}', expected '${expected}'")
  endif()
  message(STATUS "${exe}: ${out}")
endfunction()

# Relative paths of all files under dir, sorted.
function(list_tree dir out)
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${dir}" "${dir}/*")
  list(SORT files)
  set(${out} "${files}" PARENT_SCOPE)
endfunction()

# The public headers as installed paths (include/mfakit/...).
function(source_headers out)
  file(GLOB_RECURSE headers LIST_DIRECTORIES false RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/mfakit/*.hpp")
  list(TRANSFORM headers PREPEND "include/")
  list(SORT headers)
  set(${out} "${headers}" PARENT_SCOPE)
endfunction()

function(expect_tree dir expected what)
  list_tree("${dir}" actual)
  list(SORT expected)
  if(NOT actual STREQUAL expected)
    set(missing "${expected}")
    list(REMOVE_ITEM missing ${actual})
    set(extra "${actual}")
    list(REMOVE_ITEM extra ${expected})
    message(FATAL_ERROR "${what}: unexpected file tree under ${dir}\n  missing: ${missing}\n  extra:   ${extra}")
  endif()
  list(LENGTH actual n)
  message(STATUS "${what}: the ${n} expected files, nothing else")
endfunction()

# No file under `dir` may mention `text` (an absolute path must not leak
# into an installed, relocatable package).
function(expect_no_mention dir text)
  list_tree("${dir}" files)
  foreach(f IN LISTS files)
    if(f MATCHES "\\.(cmake|pc)$")
      file(READ "${dir}/${f}" content)
      string(FIND "${content}" "${text}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "${dir}/${f} contains the absolute path ${text}: not relocatable")
      endif()
    endif()
  endforeach()
endfunction()

function(expect_no_ctest build_dir)
  file(GLOB_RECURSE ctest_files "${build_dir}/CTestTestfile.cmake")
  if(ctest_files)
    message(FATAL_ERROR "testing was enabled in the consumer's build (enable_testing/include(CTest) leaked): ${ctest_files}")
  endif()
endfunction()

function(install_consumer out_dir)
  fresh_dir("${out_dir}")
  run("install the consumer" COMMAND "${CMAKE_COMMAND}" --install "${WORK}/build" --prefix "${out_dir}")
endfunction()

# --- modes --------------------------------------------------------------------------

source_headers(HEADERS)

if(MODE STREQUAL "install")
  # cmake --install of a plain build, options at their defaults but tests and
  # examples off: the shared prefix for find_package, pkg-config, versions.
  fresh_dir("${WORK}")
  file(REMOVE_RECURSE "${PREFIX}")
  # The components are AUTO by default; ON here, so a missing dependency fails
  # instead of installing a package without them.
  run("configure mfakit" COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK}/build" ${common_configure_args}
    -DMFAKIT_BUILD_TESTS=OFF -DMFAKIT_BUILD_EXAMPLES=OFF -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON
    -DMFAKIT_SQLITE=ON -DMFAKIT_POSTGRESQL=ON)
  run("install mfakit" COMMAND "${CMAKE_COMMAND}" --install "${WORK}/build" --prefix "${PREFIX}")
  component_files(share/cmake/mfakit components)
  set(expected ${HEADERS} ${components}
    share/cmake/mfakit/mfakit-config.cmake
    share/cmake/mfakit/mfakit-config-version.cmake
    share/cmake/mfakit/mfakit-targets.cmake
    share/pkgconfig/mfakit.pc
    share/doc/mfakit/LICENSE)
  expect_tree("${PREFIX}" "${expected}" "cmake --install")
  expect_no_mention("${PREFIX}" "${PREFIX}")
  expect_no_mention("${PREFIX}" "${SOURCE_DIR}")

elseif(MODE STREQUAL "find_package")
  stage_consumer("${PACKAGE_DIR}/find_package")
  configure_build_run("-DCMAKE_PREFIX_PATH=${PREFIX}" "-DEXPECTED_VERSION=${EXPECTED_VERSION}"
    "-DEXPECTED_PREFIX=${PREFIX}" STORES)

elseif(MODE STREQUAL "version")
  string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${EXPECTED_VERSION}")
  set(major "${CMAKE_MATCH_1}")
  set(minor "${CMAKE_MATCH_2}")
  math(EXPR next_major "${major} + 1")
  math(EXPR next_minor "${minor} + 1")
  # Compatible: same major (same major.minor while the major is 0), not newer.
  set(compatible "${major}.${minor}" "${EXPECTED_VERSION}")
  set(incompatible "${next_major}.0" "${major}.${next_minor}")
  if(major EQUAL 0 AND minor GREATER 0)
    math(EXPR prev_minor "${minor} - 1")
    list(APPEND incompatible "0.${prev_minor}")  # 0.x: a new minor may break
  elseif(major GREATER 0)
    list(APPEND compatible "${major}.0")
  endif()
  fresh_dir("${WORK}")
  file(COPY "${PACKAGE_DIR}/find_package_version/" DESTINATION "${WORK}/src")
  list(JOIN compatible "," compatible_arg)
  list(JOIN incompatible "," incompatible_arg)
  run("version probes: accept ${compatible}, refuse ${incompatible}"
    COMMAND "${CMAKE_COMMAND}" -S "${WORK}/src" -B "${WORK}/probe" ${common_configure_args}
      "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DEXPECTED_VERSION=${EXPECTED_VERSION}"
      "-DCOMPATIBLE=${compatible_arg}" "-DINCOMPATIBLE=${incompatible_arg}")
  # REQUIRED with a higher major: a clean CMake error naming both versions.
  run("find_package(mfakit ${next_major}.0 REQUIRED) must fail"
    COMMAND "${CMAKE_COMMAND}" -S "${WORK}/src" -B "${WORK}/required" ${common_configure_args}
      "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DREQUIRE_VERSION=${next_major}.0"
    EXPECT_FAILURE OUTPUT_VARIABLE out)
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")
  foreach(needle "compatible with requested version \"${next_major}.0\"" "version: ${EXPECTED_VERSION}")
    string(FIND "${flat}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "the refusal does not say '${needle}':\n${out}")
    endif()
  endforeach()
  if(flat MATCHES "mfakit-config\\.cmake:[0-9]+" OR flat MATCHES "wrongly accepted")
    message(FATAL_ERROR "the refusal came from inside the package config, not the version check:\n${out}")
  endif()
  message(STATUS "find_package(mfakit ${next_major}.0 REQUIRED) refused ${EXPECTED_VERSION} cleanly")

elseif(MODE STREQUAL "components")
  # find_package(mfakit COMPONENTS ...): the core needs neither SQLite nor
  # libpq; a component is loaded only when asked for; a required component
  # that is unknown or whose dependency is missing stops the configure with
  # a message that says which and what to install.
  fresh_dir("${WORK}")
  file(COPY "${PACKAGE_DIR}/find_package_components/" DESTINATION "${WORK}/src")
  set(probe_n 0)
  # probe(<components> [EXPECT_FAILURE <message>...] [ARGS <configure args>...] [TARGETS ...] [NO_TARGETS ...])
  function(probe components)
    cmake_parse_arguments(arg "" "" "EXPECT_FAILURE;ARGS;TARGETS;NO_TARGETS" ${ARGN})
    math(EXPR n "${probe_n} + 1")
    set(probe_n ${n} PARENT_SCOPE)
    string(REPLACE ";" "," components_arg "${components}")
    string(REPLACE ";" "," targets_arg "${arg_TARGETS}")
    string(REPLACE ";" "," no_targets_arg "${arg_NO_TARGETS}")
    set(command "${CMAKE_COMMAND}" -S "${WORK}/src" -B "${WORK}/probe-${n}" ${common_configure_args}
      "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCOMPONENTS=${components_arg}" "-DEXPECT_TARGETS=${targets_arg}"
      "-DEXPECT_NO_TARGETS=${no_targets_arg}" ${arg_ARGS})
    if(arg_EXPECT_FAILURE)
      run("components '${components}' ${arg_ARGS}: must fail" COMMAND ${command} EXPECT_FAILURE OUTPUT_VARIABLE out)
      string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")
      foreach(needle IN LISTS arg_EXPECT_FAILURE)
        string(FIND "${flat}" "${needle}" at)
        if(at EQUAL -1)
          message(FATAL_ERROR "find_package(mfakit COMPONENTS ${components}) failed without saying '${needle}':\n${out}")
        endif()
      endforeach()
    else()
      run("components '${components}' ${arg_ARGS}" COMMAND ${command})
    endif()
  endfunction()
  set(no_sqlite -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=TRUE)
  set(no_pq -DCMAKE_DISABLE_FIND_PACKAGE_PostgreSQL=TRUE)
  probe("" ARGS ${no_sqlite} ${no_pq} TARGETS mfakit::mfakit NO_TARGETS "mfakit::sqlite;mfakit::postgresql")
  probe("postgresql" ARGS ${no_sqlite} TARGETS "mfakit::mfakit;mfakit::postgresql" NO_TARGETS mfakit::sqlite)
  probe("sqlite;postgresql" TARGETS "mfakit::sqlite;mfakit::postgresql")
  probe("sqlite" ARGS ${no_sqlite}
    EXPECT_FAILURE "the sqlite component needs SQLite3, which was not found" "libsqlite3-dev")
  probe("sqlite;postgresql" ARGS ${no_pq}
    EXPECT_FAILURE "the postgresql component needs PostgreSQL, which was not found" "libpq-dev")
  probe("redis" EXPECT_FAILURE "mfakit has no component 'redis' (it has: sqlite, postgresql)")
  # a prefix installed without a component says how to get it
  set(partial "${WORK}/partial-prefix")
  run("configure mfakit without sqlite" COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK}/partial-build"
    ${common_configure_args} -DMFAKIT_BUILD_TESTS=OFF -DMFAKIT_BUILD_EXAMPLES=OFF -DMFAKIT_SQLITE=OFF)
  run("install it" COMMAND "${CMAKE_COMMAND}" --install "${WORK}/partial-build" --prefix "${partial}")
  set(PREFIX "${partial}")
  probe("sqlite" EXPECT_FAILURE "installed without its sqlite component" "-DMFAKIT_SQLITE=ON")
  if(EXISTS "${partial}/include/mfakit/stores/sqlite.hpp")
    message(FATAL_ERROR "an install without the sqlite component has its header")
  endif()
  # and a build that asks for a component whose dependency is missing stops
  run("configure mfakit with MFAKIT_SQLITE=ON and no SQLite3: must fail"
    COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK}/missing-build" ${common_configure_args}
      -DMFAKIT_BUILD_TESTS=OFF -DMFAKIT_BUILD_EXAMPLES=OFF -DMFAKIT_SQLITE=ON ${no_sqlite}
    EXPECT_FAILURE OUTPUT_VARIABLE out)
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")
  string(FIND "${flat}" "MFAKIT_SQLITE is ON, but SQLite3 was not found" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "MFAKIT_SQLITE=ON without SQLite3 failed without saying why:\n${out}")
  endif()

elseif(MODE STREQUAL "fetch_git" OR MODE STREQUAL "fetch_url")
  if(NOT GIT)
    message(FATAL_ERROR "git is needed for ${MODE} and was not found")
  endif()
  if(NOT EXISTS "${SOURCE_DIR}/.git")
    message(FATAL_ERROR "${SOURCE_DIR} is not a git checkout; ${MODE} fetches its committed HEAD")
  endif()
  stage_consumer("${PACKAGE_DIR}/fetch_content")
  run("git rev-parse HEAD" COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse HEAD OUTPUT_VARIABLE head)
  string(STRIP "${head}" head)
  if(MODE STREQUAL "fetch_git")
    set(fetch_args -DMFAKIT_TEST_FETCH=git "-DMFAKIT_TEST_GIT_URL=file://${SOURCE_DIR}" "-DMFAKIT_TEST_GIT_TAG=${head}")
  else()
    set(tarball "${WORK}/mfakit-${EXPECTED_VERSION}.tar.gz")
    run("git archive HEAD" COMMAND "${GIT}" -C "${SOURCE_DIR}" archive --format=tar.gz
      "--prefix=mfakit-${EXPECTED_VERSION}/" -o "${tarball}" "${head}")
    file(SHA256 "${tarball}" sha256)
    set(fetch_args -DMFAKIT_TEST_FETCH=url "-DMFAKIT_TEST_TARBALL=file://${tarball}"
      "-DMFAKIT_TEST_TARBALL_SHA256=${sha256}")
  endif()
  # Only file:// may be used by git; nothing reaches the network.
  set(ENV{GIT_ALLOW_PROTOCOL} "file")
  configure_build_run(${fetch_args} STORES)
  expect_no_ctest("${WORK}/build")
  install_consumer("${WORK}/installed")
  expect_tree("${WORK}/installed" "bin/consumer" "installing the parent")

elseif(MODE STREQUAL "add_subdirectory" OR MODE STREQUAL "add_subdirectory_install")
  stage_consumer("${PACKAGE_DIR}/add_subdirectory")
  # The vendored copy: the working tree as a user would copy it (tests and
  # examples included), without build output, VCS data or ignored files.
  set(vendored "${WORK}/src/third_party/mfakit")
  if(GIT AND EXISTS "${SOURCE_DIR}/.git")
    run("git ls-files" COMMAND "${GIT}" -C "${SOURCE_DIR}" ls-files --cached --others --exclude-standard
      OUTPUT_VARIABLE listed)
    string(REPLACE "\n" ";" listed "${listed}")
    foreach(f IN LISTS listed)
      if(f AND EXISTS "${SOURCE_DIR}/${f}" AND NOT IS_DIRECTORY "${SOURCE_DIR}/${f}")
        get_filename_component(d "${vendored}/${f}" DIRECTORY)
        file(MAKE_DIRECTORY "${d}")
        file(COPY_FILE "${SOURCE_DIR}/${f}" "${vendored}/${f}")
      endif()
    endforeach()
  else()
    string(REGEX REPLACE "([][+.*()^$?|\\\\])" "\\\\\\1" source_re "${SOURCE_DIR}")
    file(COPY "${SOURCE_DIR}/" DESTINATION "${vendored}"
      REGEX "^${source_re}/(\\.git|build|out)$" EXCLUDE
      PATTERN "node_modules" EXCLUDE)
  endif()
  if(NOT EXISTS "${vendored}/CMakeLists.txt" OR NOT EXISTS "${vendored}/include/mfakit/mfakit.hpp")
    message(FATAL_ERROR "the vendored copy in ${vendored} is incomplete")
  endif()
  if(MODE STREQUAL "add_subdirectory")
    configure_build_run(STORES)
    install_consumer("${WORK}/installed")
    expect_tree("${WORK}/installed" "bin/consumer" "installing the parent")
  else()
    configure_build_run(-DCONSUMER_INSTALLS_MFAKIT=ON STORES)
    install_consumer("${WORK}/installed")
    component_files(share/cmake/mfakit components)
    set(expected bin/consumer ${HEADERS} ${components}
      share/cmake/mfakit/mfakit-config.cmake
      share/cmake/mfakit/mfakit-config-version.cmake
      share/cmake/mfakit/mfakit-targets.cmake
      share/pkgconfig/mfakit.pc
      share/doc/mfakit/LICENSE
      share/cmake/consumer/consumer-targets.cmake)
    expect_tree("${WORK}/installed" "${expected}" "installing the parent with MFAKIT_INSTALL=ON")
    file(READ "${WORK}/installed/share/cmake/consumer/consumer-targets.cmake" exported)
    string(FIND "${exported}" "mfakit::mfakit" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "the parent's exported target does not refer to mfakit::mfakit")
    endif()
  endif()
  expect_no_ctest("${WORK}/build")
  if(NOT EXISTS "${WORK}/build/consumer-targets.cmake")
    message(FATAL_ERROR "the parent's build-tree export() was not written")
  endif()

elseif(MODE STREQUAL "pkg_config")
  foreach(tool PKG_CONFIG MAKE)
    if(NOT ${tool})
      message(FATAL_ERROR "${tool} is needed for the pkg-config test and was not found")
    endif()
  endforeach()
  stage_consumer("${PACKAGE_DIR}/pkg_config")
  # A moved prefix proves mfakit.pc is relocatable (prefix from ${pcfiledir}).
  set(moved "${WORK}/moved-prefix")
  file(COPY "${PREFIX}/" DESTINATION "${moved}")
  set(env "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${moved}/share/pkgconfig")
  run("pkg-config --modversion" COMMAND ${env} "${PKG_CONFIG}" --modversion mfakit OUTPUT_VARIABLE v)
  string(STRIP "${v}" v)
  if(NOT v STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "pkg-config says mfakit ${v}, expected ${EXPECTED_VERSION}")
  endif()
  run("pkg-config --cflags" COMMAND ${env} "${PKG_CONFIG}" --cflags mfakit OUTPUT_VARIABLE cflags)
  string(STRIP "${cflags}" cflags)
  string(REGEX MATCH "-I([^ ]+)" _ "${cflags}")
  get_filename_component(include_dir "${CMAKE_MATCH_1}" ABSOLUTE)
  if(NOT include_dir STREQUAL "${moved}/include")
    message(FATAL_ERROR "pkg-config --cflags mfakit gave '${cflags}', not -I${moved}/include")
  endif()
  # the headers need C++20: the flags must say so (the Makefile adds no -std)
  if(NOT cflags MATCHES "(^| )-std=c\\+\\+20( |$)")
    message(FATAL_ERROR "pkg-config --cflags mfakit gave '${cflags}', without -std=c++20")
  endif()
  run("pkg-config --print-requires" COMMAND ${env} "${PKG_CONFIG}" --print-requires mfakit OUTPUT_VARIABLE req)
  foreach(dep libcrypto fmt)
    if(NOT req MATCHES "(^|\n)${dep}( |\n|$)")
      message(FATAL_ERROR "mfakit.pc does not require ${dep}: ${req}")
    endif()
  endforeach()
  foreach(component sqlite postgresql)
    run("pkg-config --print-requires mfakit-${component}" COMMAND ${env} "${PKG_CONFIG}" --print-requires
      mfakit-${component} OUTPUT_VARIABLE req)
    if(component STREQUAL "sqlite")
      set(dep sqlite3)
    else()
      set(dep libpq)
    endif()
    if(NOT req MATCHES "(^|\n)mfakit = ${EXPECTED_VERSION}(\n|$)" OR NOT req MATCHES "(^|\n)${dep}( |\n|$)")
      message(FATAL_ERROR "mfakit-${component}.pc does not require mfakit = ${EXPECTED_VERSION} and ${dep}: ${req}")
    endif()
  endforeach()
  run("make" COMMAND ${env} "CXXFLAGS=-O1 -Wall -Wextra -Wpedantic -Werror"
    "${MAKE}" -C "${WORK}/src" "CXX=${CXX_COMPILER}" consumer stores)
  check_program("${WORK}/src/consumer" "${EXPECTED_OUTPUT}")
  check_stores("${WORK}/src/stores")

elseif(MODE STREQUAL "conan_test_package")
  # The Conan test_package's own CMake project, built against the CMake
  # install (Conan's CMakeDeps would provide the same mfakit::mfakit).
  fresh_dir("${WORK}")
  file(COPY "${SOURCE_DIR}/cmake/packaging/conan/test_package/CMakeLists.txt"
            "${SOURCE_DIR}/cmake/packaging/conan/test_package/test_package.cpp"
       DESTINATION "${WORK}/src")
  configure_build_run("-DCMAKE_PREFIX_PATH=${PREFIX}" PROGRAM test_package
    EXPECT "mfakit ${EXPECTED_VERSION} test_package ok")

elseif(MODE STREQUAL "vcpkg_port")
  include("${PACKAGE_DIR}/vcpkg_port_check.cmake")

else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()
message(STATUS "${MODE}: passed")
