# vcpkg overlay port for mfakit (header-only). From a checkout:
#   vcpkg install mfakit --overlay-ports=<checkout>/cmake/packaging/vcpkg/ports
# It builds the checkout it sits in (five levels up). A port in a registry
# would fetch the release instead:
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/mfakit
#                     REF "v${VERSION}" SHA512 <sha512 of the archive> HEAD_REF main)
set(VCPKG_BUILD_TYPE release)  # headers only: one configuration is enough

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/mfakit/mfakit.hpp")
  message(FATAL_ERROR "the mfakit overlay port must stay in <checkout>/cmake/packaging/vcpkg/ports/mfakit")
endif()

# The store components: feature sqlite -> MFAKIT_SQLITE=ON, postgresql ->
# MFAKIT_POSTGRESQL=ON (ON: a missing dependency fails the build), else OFF.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    sqlite MFAKIT_SQLITE
    postgresql MFAKIT_POSTGRESQL
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DMFAKIT_INSTALL=ON
    -DMFAKIT_BUILD_TESTS=OFF
    -DMFAKIT_BUILD_EXAMPLES=OFF
    -DMFAKIT_BUILD_BENCHMARKS=OFF
    -DMFAKIT_BUILD_FUZZERS=OFF
    "-DMFAKIT_INSTALL_CMAKEDIR=share/${PORT}"
    -DMFAKIT_INSTALL_PKGCONFIGDIR=share/pkgconfig
)
vcpkg_cmake_install()
# The package files are already in share/mfakit, the default CONFIG_PATH.
vcpkg_cmake_config_fixup()
vcpkg_fixup_pkgconfig()

# vcpkg keeps the license as share/<port>/copyright, not share/doc.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/doc")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
