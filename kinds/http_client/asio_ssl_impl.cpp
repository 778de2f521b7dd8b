// Asio's SSL support compiled once (BOOST_ASIO_SEPARATE_COMPILATION), next to runtime/asio_impl.cpp,
// for the https side of the HTTP client (the openai backend, the HTTP kinds).
#include <boost/asio/ssl/impl/src.hpp>
