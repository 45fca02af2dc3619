# The optional store components: INTERFACE targets mfakit::sqlite
# (mfakit/stores/sqlite.hpp, links SQLite::SQLite3) and mfakit::postgresql
# (mfakit/stores/postgresql.hpp, links PostgreSQL::PostgreSQL), each on top of
# mfakit::mfakit. Their headers belong to them, not to the core target, so the
# core never needs sqlite3.h or libpq-fe.h. Included by CMakeLists.txt.
#
#   MFAKIT_SQLITE / MFAKIT_POSTGRESQL = AUTO (default): the component exists
#     when its dependency is found; ON: it must (a missing dependency stops
#     the configure, saying what to install); OFF: no component.

set(MFAKIT_SQLITE AUTO CACHE STRING "The mfakit::sqlite component: ON, OFF or AUTO (when SQLite3 is found)")
set(MFAKIT_POSTGRESQL AUTO CACHE STRING "The mfakit::postgresql component: ON, OFF or AUTO (when libpq is found)")
set_property(CACHE MFAKIT_SQLITE PROPERTY STRINGS ON OFF AUTO)
set_property(CACHE MFAKIT_POSTGRESQL PROPERTY STRINGS ON OFF AUTO)

set(MFAKIT_COMPONENTS "")  # the components this build defines

# mfakit_store_component(<name> <option> <package> <target> <what to install> <header>...)
function(mfakit_store_component name option package target install_hint)
  string(TOUPPER "${${option}}" mode)
  if(NOT mode MATCHES "^(ON|OFF|AUTO|TRUE|FALSE|YES|NO|1|0)$")
    message(FATAL_ERROR "${option} is '${${option}}': use ON, OFF or AUTO")
  endif()
  if(NOT mode STREQUAL "AUTO" AND NOT ${option})
    return()
  endif()
  if(NOT TARGET ${target})
    if(mode STREQUAL "AUTO")
      find_package(${package} QUIET)
    else()
      find_package(${package})
    endif()
  endif()
  if(NOT TARGET ${target})
    if(mode STREQUAL "AUTO")
      message(STATUS "mfakit: no ${name} component (${package} not found: ${install_hint})")
      return()
    endif()
    message(FATAL_ERROR "mfakit: ${option} is ON, but ${package} was not found. Install ${install_hint}, "
      "or point CMAKE_PREFIX_PATH at it, or set ${option}=OFF.")
  endif()
  if(NOT TARGET Threads::Threads)
    find_package(Threads REQUIRED)
  endif()
  add_library(mfakit_${name} INTERFACE)
  add_library(mfakit::${name} ALIAS mfakit_${name})
  set_target_properties(mfakit_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(mfakit_${name} INTERFACE mfakit ${target} Threads::Threads)
  list(TRANSFORM ARGN PREPEND "${PROJECT_SOURCE_DIR}/include/")
  target_sources(mfakit_${name} INTERFACE
    FILE_SET HEADERS
    BASE_DIRS "${PROJECT_SOURCE_DIR}/include"
    FILES ${ARGN})
  set(MFAKIT_COMPONENTS ${MFAKIT_COMPONENTS} ${name} PARENT_SCOPE)
endfunction()

mfakit_store_component(sqlite MFAKIT_SQLITE SQLite3 SQLite::SQLite3 "SQLite's development files (Debian: libsqlite3-dev)"
  mfakit/stores/sqlite.hpp
  mfakit/stores/detail/sqlite_handles.hpp
  mfakit/stores/detail/connection_pool.hpp)
mfakit_store_component(postgresql MFAKIT_POSTGRESQL PostgreSQL PostgreSQL::PostgreSQL "libpq's development files (Debian: libpq-dev)"
  mfakit/stores/postgresql.hpp
  mfakit/stores/detail/postgresql_handles.hpp
  mfakit/stores/detail/connection_pool.hpp)

# A header under stores/ that no component lists would be neither installed
# nor checked: stop here instead.
file(GLOB_RECURSE mfakit_store_headers CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}/include"
  "${PROJECT_SOURCE_DIR}/include/mfakit/stores/*.hpp")
foreach(h IN LISTS mfakit_store_headers)
  if(NOT h MATCHES "^mfakit/stores/(sqlite|postgresql|detail/sqlite_handles|detail/postgresql_handles|detail/connection_pool)\\.hpp$")
    message(FATAL_ERROR "${h} belongs to no store component (cmake/stores.cmake)")
  endif()
endforeach()
