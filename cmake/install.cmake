# `cmake --install`: the public headers, libspool (static) with its Asio/Beast part, a CMake
# package (find_package(spool) -> spool::spool) and spool.pc; the spool command when it is built.
#
# Static only: the library's API is C++20 coroutines and Boost/SOCI types by value, so a shared
# libspool would have to be rebuilt with every Boost or SOCI update anyway, and there is no ABI
# policy yet that a SONAME could promise.
include(CMakePackageConfigHelpers)

set(SPOOL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/spool)
install(TARGETS spool spool_asio EXPORT spoolTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY include/spool DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/include/spool/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/spool COMPONENT dev)
install(EXPORT spoolTargets NAMESPACE spool:: DESTINATION ${SPOOL_CMAKE_DIR} COMPONENT dev)

configure_package_config_file(cmake/spoolConfig.cmake.in ${PROJECT_BINARY_DIR}/spoolConfig.cmake
                              INSTALL_DESTINATION ${SPOOL_CMAKE_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/spoolConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/spoolConfig.cmake ${PROJECT_BINARY_DIR}/spoolConfigVersion.cmake
              cmake/spoolSoci.cmake
        DESTINATION ${SPOOL_CMAKE_DIR} COMPONENT dev)

# pkg-config: for builds that are not CMake. Static library, so every dependency is in Libs.
# Relocatable: the prefix is found from the .pc file's own place (pkg-config's ${pcfiledir}), so
# `cmake --install --prefix DIR` and a package's /usr both work.
file(RELATIVE_PATH SPOOL_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
set(SPOOL_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(SPOOL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
configure_file(cmake/spool.pc.in ${PROJECT_BINARY_DIR}/spool.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/spool.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

if(TARGET spool_cli)
  install(TARGETS spool_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
endif()

# The Debian packages (CPack): only with the spool command, which the `spool` package holds.
if(TARGET spool_cli)
  include(${CMAKE_CURRENT_LIST_DIR}/package.cmake)
endif()
