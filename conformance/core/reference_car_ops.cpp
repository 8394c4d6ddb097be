// car/read: a whole CARv1 file, read strictly, with the first root required
// among its blocks.
#include "atproto/car/car.hpp"
#include "atproto/data/base64.hpp"
#include "reference_ops.hpp"

namespace atproto::conformance {

Response car_read(const json& request) {
  if (!request.is_object() || !request.contains("car") || !request["car"].is_string()) {
    return bad_request("car/read needs a string field \"car\" (base64)");
  }
  auto bytes = data::base64_decode(request["car"].get_ref<const std::string&>());
  if (!bytes.ok()) return bad_request("\"car\" is not base64: " + bytes.error().message);
  auto car = car::read_car(*bytes);
  if (!car.ok()) return rejected(car.error());
  // [car.roots.commit-included] An atproto CAR is about its first root; a file
  // that does not carry that block is not usable.
  if (auto present = car::check_roots_present(*car); !present.ok())
    return rejected(present.error());
  json roots = json::array();
  for (const auto& root : car->roots) roots.push_back(root.to_string());
  json blocks = json::array();
  for (const auto& block : car->blocks) {
    blocks.push_back(json{{"cid", block.cid.to_string()}, {"data", padded_base64(block.bytes)}});
  }
  return answer(200,
                json{{"ok", true}, {"roots", std::move(roots)}, {"blocks", std::move(blocks)}});
}

}  // namespace atproto::conformance
