// Boost.JSON's implementation, compiled once for the demo server (Boost.JSON
// used header-only: Debian's libboost1.81-dev is all it needs).
#include <boost/json/src.hpp>
