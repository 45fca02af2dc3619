# Install rules for the header-only mfakit package: headers, an exported
# target, an architecture-independent package config and a pkg-config file.
include(CMakePackageConfigHelpers)

set(MFAKIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/mfakit"
  CACHE STRING "Where mfakit's CMake package files are installed (relative to the prefix)")
set(MFAKIT_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
  CACHE STRING "Where mfakit.pc is installed (relative to the prefix)")

install(TARGETS mfakit EXPORT mfakit-targets FILE_SET HEADERS)
install(EXPORT mfakit-targets
  NAMESPACE mfakit::
  DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/mfakit-config.cmake.in"
  "${PROJECT_BINARY_DIR}/mfakit-config.cmake"
  INSTALL_DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/mfakit-config-version.cmake"
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/mfakit-config.cmake"
  "${PROJECT_BINARY_DIR}/mfakit-config-version.cmake"
  DESTINATION "${MFAKIT_INSTALL_CMAKEDIR}")

configure_file("${CMAKE_CURRENT_LIST_DIR}/mfakit.pc.in" "${PROJECT_BINARY_DIR}/mfakit.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mfakit.pc" DESTINATION "${MFAKIT_INSTALL_PKGCONFIGDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/mfakit")
