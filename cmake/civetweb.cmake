# CivetWeb, built from the source of Debian's civetweb package (fetched by
# scripts/install-deps.sh) with TLS on OpenSSL 3 and IPv6, neither of which
# Debian 12's binary libcivetweb1 has. Defines nsexp_civetweb (alias
# nsexp::civetweb): the C library and its C++ wrapper (CivetServer), static.
set(NSEXP_CIVETWEB_SOURCE_DIR "${PROJECT_SOURCE_DIR}/third_party/civetweb"
  CACHE PATH "Unpacked source of Debian's civetweb 1.15+dfsg-4 package")

foreach(f src/civetweb.c src/CivetServer.cpp include/civetweb.h
          include/CivetServer.h)
  if(NOT EXISTS "${NSEXP_CIVETWEB_SOURCE_DIR}/${f}")
    message(FATAL_ERROR "CivetWeb source not found in ${NSEXP_CIVETWEB_SOURCE_DIR} (no ${f}): run scripts/install-deps.sh to fetch it, or set NSEXP_CIVETWEB_SOURCE_DIR")
  endif()
endforeach()

find_package(OpenSSL 3 REQUIRED COMPONENTS SSL Crypto)

add_library(nsexp_civetweb STATIC
  ${NSEXP_CIVETWEB_SOURCE_DIR}/src/civetweb.c
  ${NSEXP_CIVETWEB_SOURCE_DIR}/src/CivetServer.cpp)
add_library(nsexp::civetweb ALIAS nsexp_civetweb)
set_target_properties(nsexp_civetweb PROPERTIES
  LINKER_LANGUAGE CXX
  POSITION_INDEPENDENT_CODE ON)
# SYSTEM: its headers are not ours to hold to our warnings, and they must be
# found before the system's /usr/include/civetweb.h of libcivetweb-dev.
target_include_directories(nsexp_civetweb SYSTEM PUBLIC
  ${NSEXP_CIVETWEB_SOURCE_DIR}/include)
# OPENSSL_API_3_0 + NO_SSL_DL: link libssl3 directly instead of loading the
# OpenSSL 1.1 API at run time. NO_CGI: the exporter serves handlers only.
target_compile_definitions(nsexp_civetweb
  PUBLIC OPENSSL_API_3_0 NO_SSL_DL USE_IPV6
  PRIVATE NO_CGI)
# Not our code: no -Werror, and its own warnings are not ours to fix.
target_compile_options(nsexp_civetweb PRIVATE -w)
target_link_libraries(nsexp_civetweb
  PUBLIC OpenSSL::SSL OpenSSL::Crypto Threads::Threads ${CMAKE_DL_LIBS})
