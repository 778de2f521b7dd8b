# Debian packages with CPack (scripts/package builds them; tests/package/deb_test.sh checks them):
#   spool      the `spool` command, the systemd unit spool.service (Type=notify, User=spool,
#              /var/lib/spool), /etc/spool/spool.json (a conffile) and the maintainer scripts
#              that create the system user `spool`. Enables and starts nothing.
#   spool-dev  libspool.a, the public headers, the CMake package and spool.pc: what an
#              application builds against. A server needs none of it, and an application's
#              build machine needs no service, user or /etc file: two packages.
# Components: bin and dev (cmake/install.cmake), service (below: only in the .deb, never in a
# plain `cmake --install`, which must not write /etc or the systemd directory).
set(SPOOL_DEB_DIR ${PROJECT_SOURCE_DIR}/packaging/deb)
# cpack (and `make install`) would first build the whole `all` target, the tests and the bench
# included: packaging takes the targets the packages hold as they are built (scripts/package
# builds spool_cli, spool and spool_asio before cpack). `cmake --install` never builds anyway.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(FILES ${SPOOL_DEB_DIR}/spool.service DESTINATION lib/systemd/system
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${SPOOL_DEB_DIR}/spool.json DESTINATION /etc/spool
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT service EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME spool)
set(CPACK_PACKAGE_VENDOR "Spool")
set(CPACK_PACKAGE_CONTACT "Spool maintainers <maintainers@users.noreply.r-seed-42c790c2.example>")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it above each package's own first line.
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL bin service dev)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENT_BIN_GROUP server)
set(CPACK_COMPONENT_SERVICE_GROUP server)
set(CPACK_COMPONENT_DEV_GROUP devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # spool_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME spool)
set(CPACK_DEBIAN_SERVER_DESCRIPTION "durable background-job runtime
Spool runs background jobs from a SQLite or PostgreSQL database: retries, a dead-letter queue, \
periodic jobs, an admin HTTP endpoint with metrics. This package holds the spool command and \
its systemd service, spool.service.")
# The shared libraries the binary links (Boost.JSON, SOCI, libpq, SQLite, spdlog, OpenSSL,
# libsystemd ...), found by dpkg-shlibdeps; adduser for the maintainer script.
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    ${SPOOL_DEB_DIR}/conffiles ${SPOOL_DEB_DIR}/postinst ${SPOOL_DEB_DIR}/prerm
    ${SPOOL_DEB_DIR}/postrm)

set(CPACK_DEBIAN_DEVEL_PACKAGE_NAME spool-dev)
set(CPACK_DEBIAN_DEVEL_DESCRIPTION "durable background-job runtime (library and headers)
libspool (static), the public headers <spool/...>, the CMake package (find_package(spool) -> \
spool::spool) and spool.pc, to embed Spool's runtime in an Asio application.")
# A static library: what an application links comes from these -dev packages.
set(CPACK_DEBIAN_DEVEL_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_DEVEL_PACKAGE_DEPENDS
    "libboost1.81-dev, libboost-json1.81-dev, libsoci-dev, libsqlite3-dev, libpq-dev, libspdlog-dev, libhowardhinnant-date-dev")
set(CPACK_DEBIAN_DEVEL_PACKAGE_SECTION libdevel)

include(CPack)
