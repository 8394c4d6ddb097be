// The one Catch2 main of the repositories part's test binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
