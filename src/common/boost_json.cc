// Boost.JSON's implementation, compiled once for the whole program (header-only mode, so only
// libboost1.81-dev is needed).
#include <boost/json/src.hpp>
