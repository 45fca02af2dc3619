# MODE=vcpkg_port of run_consumer.cmake: runs the overlay port's real
# portfile.cmake with stand-ins for the vcpkg helpers it calls (vcpkg itself
# cannot be installed on the CI machine), then checks what vcpkg would check
# and builds a consumer against the result.
#
# The stand-ins do what vcpkg's documented helpers do to a header-only CMake
# project, not more:
#  - vcpkg_cmake_configure: one Release configure (VCPKG_BUILD_TYPE release),
#    with the cache options vcpkg always adds (install prefix = the package
#    directory, lib/bin dirs, no package registry, absolute install
#    destinations are errors) and the port's OPTIONS; any port option CMake
#    reports as unused fails (a misspelt MFAKIT_* option);
#  - vcpkg_cmake_install: builds the `install` target;
#  - vcpkg_cmake_config_fixup: with the defaults (PACKAGE_NAME = port,
#    CONFIG_PATH = share/<port>), the config must already be there, two
#    levels below the prefix, free of absolute paths;
#  - vcpkg_fixup_pkgconfig: .pc files must be relocatable and resolve;
#  - vcpkg_install_copyright: share/<port>/copyright from the listed files.
# Not exercised: vcpkg's download/extract, its toolchain file, its own
# post-build lint binary, and resolving fmt/openssl from vcpkg ports (the
# system's are used).

set(port_dir "${SOURCE_DIR}/cmake/packaging/vcpkg/ports/mfakit")
set(vcpkg_root "${WORK_ROOT}/vcpkg_tree")  # WORK itself is the consumer's
fresh_dir("${WORK}")
fresh_dir("${vcpkg_root}")

# --- vcpkg.json --------------------------------------------------------------------------
file(READ "${port_dir}/vcpkg.json" manifest)
string(JSON port_name GET "${manifest}" name)
string(JSON port_version ERROR_VARIABLE no_semver GET "${manifest}" version-semver)
string(JSON port_license ERROR_VARIABLE no_license GET "${manifest}" license)
if(NOT port_name STREQUAL "mfakit")
  message(FATAL_ERROR "vcpkg.json: name is '${port_name}', expected mfakit")
endif()
if(no_semver OR NOT port_version STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "vcpkg.json: version-semver '${port_version}' differs from the CMake version ${EXPECTED_VERSION}")
endif()
if(no_license OR NOT port_license STREQUAL "MIT")
  message(FATAL_ERROR "vcpkg.json: license '${port_license}', expected MIT (as LICENSE)")
endif()
string(JSON ndeps LENGTH "${manifest}" dependencies)
set(plain_deps "")
set(host_deps "")
math(EXPR last "${ndeps} - 1")
foreach(i RANGE ${last})
  string(JSON type TYPE "${manifest}" dependencies ${i})
  if(type STREQUAL "STRING")
    string(JSON dep GET "${manifest}" dependencies ${i})
    list(APPEND plain_deps "${dep}")
  else()
    string(JSON dep GET "${manifest}" dependencies ${i} name)
    string(JSON host ERROR_VARIABLE no_host GET "${manifest}" dependencies ${i} host)
    if(NOT no_host AND host)
      list(APPEND host_deps "${dep}")
    else()
      list(APPEND plain_deps "${dep}")
    endif()
  endif()
endforeach()
list(SORT plain_deps)
list(SORT host_deps)
if(NOT plain_deps STREQUAL "fmt;openssl" OR NOT host_deps STREQUAL "vcpkg-cmake;vcpkg-cmake-config")
  message(FATAL_ERROR "vcpkg.json dependencies: '${plain_deps}' and host '${host_deps}'; expected fmt;openssl "
                      "and host vcpkg-cmake;vcpkg-cmake-config")
endif()
message(STATUS "vcpkg.json: mfakit ${port_version}, MIT, fmt + openssl, host vcpkg-cmake(-config)")
# the store components as features, each with its database's client library
foreach(feature_dep "sqlite:sqlite3" "postgresql:libpq")
  string(REPLACE ":" ";" pair "${feature_dep}")
  list(GET pair 0 feature)
  list(GET pair 1 dep)
  string(JSON feature_deps ERROR_VARIABLE no_feature GET "${manifest}" features ${feature} dependencies)
  if(no_feature OR NOT feature_deps MATCHES "\"${dep}\"")
    message(FATAL_ERROR "vcpkg.json: feature '${feature}' missing or not depending on ${dep}: ${feature_deps}")
  endif()
endforeach()
message(STATUS "vcpkg.json: features sqlite (sqlite3) and postgresql (libpq)")

# --- the environment vcpkg gives a portfile ---------------------------------------------
set(PORT mfakit)
set(VERSION "${port_version}")
set(TARGET_TRIPLET x64-linux)
set(VCPKG_TARGET_IS_LINUX ON)
set(VCPKG_TARGET_EXECUTABLE_SUFFIX "")
set(CURRENT_PACKAGES_DIR "${vcpkg_root}/packages/mfakit_x64-linux")
set(CURRENT_BUILDTREES_DIR "${vcpkg_root}/buildtrees/mfakit")
set(CURRENT_INSTALLED_DIR "${vcpkg_root}/installed/x64-linux")
file(MAKE_DIRECTORY "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}" "${CURRENT_INSTALLED_DIR}")
set(vcpkg_called "")
# installed as mfakit[sqlite,postgresql]
set(FEATURES core sqlite postgresql)

function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS" "FEATURES")
  set(options "")
  set(pairs ${arg_FEATURES})
  while(pairs)
    list(POP_FRONT pairs feature option)
    string(JSON ignored ERROR_VARIABLE no_feature GET "${manifest}" features ${feature})
    if(no_feature)
      message(FATAL_ERROR "vcpkg_check_features: the port names feature '${feature}', which vcpkg.json does not declare")
    endif()
    if(feature IN_LIST FEATURES)
      list(APPEND options "-D${option}=ON")
    else()
      list(APPEND options "-D${option}=OFF")
    endif()
  endwhile()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

function(vcpkg_from_github)
  message(FATAL_ERROR "the overlay port builds its checkout; it must not download (vcpkg_from_github)")
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG")
  set_property(GLOBAL APPEND PROPERTY vcpkg_calls configure)
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "a header-only port sets VCPKG_BUILD_TYPE release (got '${VCPKG_BUILD_TYPE}')")
  endif()
  set(build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")
  set_property(GLOBAL PROPERTY vcpkg_build_dir "${build}")
  run("vcpkg_cmake_configure (Release)" COMMAND "${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${build}"
    ${common_configure_args} "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}"
    -DFETCHCONTENT_FULLY_DISCONNECTED=ON -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON
    -DCMAKE_INSTALL_SYSTEM_RUNTIME_LIBS_SKIP=TRUE -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON
    -DCMAKE_INSTALL_LIBDIR:STRING=lib -DCMAKE_INSTALL_BINDIR:STRING=bin
    ${arg_OPTIONS} ${arg_OPTIONS_RELEASE}
    OUTPUT_VARIABLE out)
  # "Manually-specified variables were not used by the project:" lists them
  if(out MATCHES "were not used by the project:([^\n]*\n)+")
    foreach(opt IN LISTS arg_OPTIONS arg_OPTIONS_RELEASE)
      string(REGEX REPLACE "^-D([A-Za-z0-9_]+).*" "\\1" name "${opt}")
      if(out MATCHES "\n    ${name}\n")
        message(FATAL_ERROR "the port passes ${name}, which the project does not use:\n${out}")
      endif()
    endforeach()
  endif()
endfunction()

function(vcpkg_cmake_install)
  set_property(GLOBAL APPEND PROPERTY vcpkg_calls install)
  get_property(build GLOBAL PROPERTY vcpkg_build_dir)
  run("vcpkg_cmake_install" COMMAND "${CMAKE_COMMAND}" --build "${build}" --target install)
endfunction()

function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "DO_NOT_DELETE_PARENT_CONFIG_PATH;NO_PREFIX_CORRECTION"
    "PACKAGE_NAME;CONFIG_PATH" "")
  set_property(GLOBAL APPEND PROPERTY vcpkg_calls config_fixup)
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  if(NOT arg_CONFIG_PATH)
    set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
  endif()
  if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
    message(FATAL_ERROR "the port moves the config from ${arg_CONFIG_PATH}; it should be installed to "
                        "share/${arg_PACKAGE_NAME} directly (MFAKIT_INSTALL_CMAKEDIR)")
  endif()
  set(config "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}/${arg_PACKAGE_NAME}-config.cmake")
  if(NOT EXISTS "${config}")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: ${config} does not exist")
  endif()
  # vcpkg rewrites the prefix computation to two levels up (share/<port>);
  # it must already be that, or its correction would change the meaning.
  file(READ "${config}" text)
  if(NOT text MATCHES "PACKAGE_PREFIX_DIR \"\\\${CMAKE_CURRENT_LIST_DIR}/../../\" ABSOLUTE")
    message(FATAL_ERROR "${config} does not compute its prefix two levels up:\n${text}")
  endif()
  file(READ "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}/${arg_PACKAGE_NAME}-targets.cmake" targets)
  string(REGEX MATCHALL "get_filename_component\\(_IMPORT_PREFIX \"\\\${_IMPORT_PREFIX}\" PATH\\)" ups "${targets}")
  list(LENGTH ups n)
  if(NOT n EQUAL 2)
    message(FATAL_ERROR "${arg_PACKAGE_NAME}-targets.cmake goes ${n} levels up from its directory, vcpkg expects 2")
  endif()
  expect_no_mention("${CURRENT_PACKAGES_DIR}" "${CURRENT_PACKAGES_DIR}")
endfunction()

function(vcpkg_fixup_pkgconfig)
  set_property(GLOBAL APPEND PROPERTY vcpkg_calls fixup_pkgconfig)
  file(GLOB_RECURSE pcs "${CURRENT_PACKAGES_DIR}/*.pc")
  if(NOT pcs)
    message(FATAL_ERROR "vcpkg_fixup_pkgconfig: no .pc file installed")
  endif()
  foreach(pc IN LISTS pcs)
    file(READ "${pc}" text)
    if(NOT text MATCHES "(^|\n)prefix=\\\${pcfiledir}/")
      message(FATAL_ERROR "${pc}: prefix is not relative to \${pcfiledir}:\n${text}")
    endif()
    if(text MATCHES "(^|\n)Libs:")
      message(FATAL_ERROR "${pc}: a header-only package in share/pkgconfig must not list Libs")
    endif()
    get_filename_component(dir "${pc}" DIRECTORY)
    get_filename_component(name "${pc}" NAME_WE)
    run("pkg-config --exists ${name}" COMMAND "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${dir}"
      "${PKG_CONFIG}" --print-errors --exists ${name})
  endforeach()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  set_property(GLOBAL APPEND PROPERTY vcpkg_calls copyright)
  set(all "")
  foreach(f IN LISTS arg_FILE_LIST)
    if(NOT EXISTS "${f}")
      message(FATAL_ERROR "vcpkg_install_copyright: ${f} does not exist")
    endif()
    file(READ "${f}" text)
    string(APPEND all "${text}")
  endforeach()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${all}")
endfunction()

if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config is needed for the vcpkg port check and was not found")
endif()

# --- run the portfile ---------------------------------------------------------------------
include("${port_dir}/portfile.cmake")
get_property(calls GLOBAL PROPERTY vcpkg_calls)
if(NOT calls STREQUAL "configure;install;config_fixup;fixup_pkgconfig;copyright")
  message(FATAL_ERROR "the portfile called '${calls}', expected configure, install, config_fixup, "
                      "fixup_pkgconfig, copyright in that order")
endif()

# --- what vcpkg checks after a header-only port -------------------------------------------
component_files(share/mfakit components)
set(expected ${HEADERS} ${components}
  share/mfakit/mfakit-config.cmake
  share/mfakit/mfakit-config-version.cmake
  share/mfakit/mfakit-targets.cmake
  share/mfakit/copyright
  share/mfakit/usage
  share/pkgconfig/mfakit.pc)
expect_tree("${CURRENT_PACKAGES_DIR}" "${expected}" "vcpkg package layout (no lib/, bin/, debug/ or share/doc)")
file(READ "${CURRENT_PACKAGES_DIR}/share/mfakit/copyright" copyright)
file(READ "${SOURCE_DIR}/LICENSE" license)
if(NOT copyright STREQUAL license)
  message(FATAL_ERROR "share/mfakit/copyright is not the LICENSE")
endif()
file(READ "${CURRENT_PACKAGES_DIR}/share/mfakit/usage" usage)
foreach(needle "find_package(mfakit CONFIG REQUIRED)" "mfakit::mfakit")
  string(FIND "${usage}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the usage file does not mention ${needle}")
  endif()
endforeach()

# --- and a consumer builds against it, as with vcpkg's toolchain ---------------------------
set(packages "${CURRENT_PACKAGES_DIR}")
stage_consumer("${PACKAGE_DIR}/find_package")
configure_build_run("-DCMAKE_PREFIX_PATH=${packages}" "-DEXPECTED_VERSION=${EXPECTED_VERSION}"
  "-DEXPECTED_PREFIX=${packages}" STORES)
