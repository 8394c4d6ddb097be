// UTF-8 well-formedness (RFC 3629) for the data layer: the project's one
// checker lives in atproto/common/utf8.hpp; inside atproto::data it is
// spelled utf8::is_valid.
#pragma once

#include "atproto/common/utf8.hpp"
