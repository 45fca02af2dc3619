# Install rules for the header-only mfakit package: headers, an exported
# target, an architecture-independent package config and a relocatable
# pkg-config file. Included by CMakeLists.txt when MFAKIT_INSTALL is ON.
# Every destination is relative to the prefix and a cache variable, so
# packagers can move it (the vcpkg port sets MFAKIT_INSTALL_CMAKEDIR).
include(CMakePackageConfigHelpers)

set(MFAKIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/mfakit"
  CACHE STRING "Where mfakit's CMake package files are installed (relative to the prefix)")
set(MFAKIT_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
  CACHE STRING "Where mfakit.pc is installed (relative to the prefix)")
foreach(dir MFAKIT_INSTALL_CMAKEDIR MFAKIT_INSTALL_PKGCONFIGDIR CMAKE_INSTALL_INCLUDEDIR)
  if(IS_ABSOLUTE "${${dir}}")
    message(FATAL_ERROR "${dir} (${${dir}}) must be relative to the install prefix")
  endif()
endforeach()

install(TARGETS mfakit EXPORT mfakit-targets FILE_SET HEADERS)
install(EXPORT mfakit-targets
  NAMESPACE mfakit::
  DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")
# Each store component in an export of its own: the package config loads it
# only when asked for, after finding its dependency.
foreach(component IN LISTS MFAKIT_COMPONENTS)
  install(TARGETS mfakit_${component} EXPORT mfakit-${component}-targets FILE_SET HEADERS)
  install(EXPORT mfakit-${component}-targets
    NAMESPACE mfakit::
    DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")
endforeach()

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/mfakit-config.cmake.in"
  "${PROJECT_BINARY_DIR}/mfakit-config.cmake"
  INSTALL_DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")
# While the major version is 0, a new minor version may break the API
# (semver), so 0.1 accepts 0.1.x only; from 1.0 on, any newer 1.x.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(mfakit_compatibility SameMinorVersion)
else()
  set(mfakit_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/mfakit-config-version.cmake"
  COMPATIBILITY ${mfakit_compatibility}
  ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/mfakit-config.cmake"
  "${PROJECT_BINARY_DIR}/mfakit-config-version.cmake"
  DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")

# mfakit.pc finds its prefix from its own location, so a moved prefix (or a
# vcpkg/Conan package folder) keeps working.
file(RELATIVE_PATH MFAKIT_PC_TO_PREFIX
  "/prefix/${MFAKIT_INSTALL_PKGCONFIGDIR}" "/prefix")
string(REGEX REPLACE "/$" "" MFAKIT_PC_TO_PREFIX "${MFAKIT_PC_TO_PREFIX}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/mfakit.pc.in" "${PROJECT_BINARY_DIR}/mfakit.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mfakit.pc" DESTINATION "${MFAKIT_INSTALL_PKGCONFIGDIR}")
# mfakit-sqlite.pc, mfakit-postgresql.pc: the component's dependency on top of mfakit.pc
set(MFAKIT_PC_REQUIRES_sqlite "sqlite3")
set(MFAKIT_PC_REQUIRES_postgresql "libpq")
set(MFAKIT_PC_HEADER_sqlite "mfakit/stores/sqlite.hpp")
set(MFAKIT_PC_HEADER_postgresql "mfakit/stores/postgresql.hpp")
foreach(component IN LISTS MFAKIT_COMPONENTS)
  set(MFAKIT_PC_COMPONENT "${component}")
  set(MFAKIT_PC_COMPONENT_REQUIRES "${MFAKIT_PC_REQUIRES_${component}}")
  set(MFAKIT_PC_COMPONENT_HEADER "${MFAKIT_PC_HEADER_${component}}")
  configure_file("${CMAKE_CURRENT_LIST_DIR}/mfakit-component.pc.in" "${PROJECT_BINARY_DIR}/mfakit-${component}.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/mfakit-${component}.pc" DESTINATION "${MFAKIT_INSTALL_PKGCONFIGDIR}")
endforeach()
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/mfakit")
