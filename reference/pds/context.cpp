// The small shared pieces of the PDS parts: status names, the auth error
// response.
#include "atproto/pds/context.hpp"

namespace atproto::pds {

const char* account_status_name(AccountStatus status) {
  switch (status) {
    case AccountStatus::kActive:
      return "active";
    case AccountStatus::kDeactivated:
      return "deactivated";
    case AccountStatus::kTakendown:
      return "takendown";
    case AccountStatus::kDeleted:
      return "deleted";
  }
  return "active";
}

xrpc::HttpResponse auth_error_response(const Error& error) {
  // [xrpc.error.body] Missing or invalid credentials are 401 with a
  // WWW-Authenticate challenge; a valid token for an account that may not
  // act (deactivated, taken down) is a 400-class refusal of the request.
  const bool credentials_problem = error.code == "AuthenticationRequired" ||
                                   error.code == "ExpiredToken" || error.code == "InvalidToken" ||
                                   error.code == "AuthMissing";
  int status = credentials_problem ? 401 : 400;
  auto response = xrpc::xrpc_error(status, error.code, error.message);
  if (status == 401) {
    std::string challenge = "Bearer";
    if (error.code == "ExpiredToken" || error.code == "InvalidToken")
      challenge += " error=\"invalid_token\"";
    response.headers.emplace_back("www-authenticate", challenge);
  }
  return response;
}

}  // namespace atproto::pds
