# Debian's SOCI 4.0.3 ships neither a CMake package nor a .pc file: imported targets SOCI::core,
# SOCI::sqlite3, SOCI::postgresql from its headers and libraries. Used by Spool's build and, once
# installed, by spoolConfig.cmake.
if(NOT TARGET SOCI::core)
  find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
  foreach(part core sqlite3 postgresql)
    find_library(SOCI_${part}_LIBRARY soci_${part} REQUIRED)
    add_library(SOCI::${part} UNKNOWN IMPORTED)
    set_target_properties(SOCI::${part} PROPERTIES
      IMPORTED_LOCATION "${SOCI_${part}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}")
  endforeach()
  set_property(TARGET SOCI::core PROPERTY INTERFACE_LINK_LIBRARIES ${CMAKE_DL_LIBS})
  set_property(TARGET SOCI::sqlite3 PROPERTY INTERFACE_LINK_LIBRARIES SOCI::core SQLite::SQLite3)
  set_property(TARGET SOCI::postgresql PROPERTY INTERFACE_LINK_LIBRARIES SOCI::core
                                                PostgreSQL::PostgreSQL)
endif()
