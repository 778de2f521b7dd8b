# Third-party dependencies, all from Debian packages (see scripts/lib/deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS unit_test_framework json)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL REQUIRED)  # https to inference servers (Beast's ssl_stream)
find_package(date CONFIG REQUIRED)  # time zones of periodic schedules (libhowardhinnant-date-dev)

# Debian's SOCI 4.0.3 ships neither a CMake package nor a .pc file.
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
set_property(TARGET SOCI::postgresql PROPERTY INTERFACE_LINK_LIBRARIES SOCI::core PostgreSQL::PostgreSQL)
