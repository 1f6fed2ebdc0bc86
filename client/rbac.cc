// Rbac: the /v1/rbac endpoints.
#include "tessera/client/client.h"
// ^ This file's own header: first, so it must compile alone.

#include <boost/json.hpp>

#include "client/api_common.h"
#include "client/client_impl.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

}  // namespace

Outcome<RbacPolicy> Rbac::Policy() {
  auto o = c_.impl().Call("GET", "/v1/rbac/policy", std::nullopt);
  if (!o.ok()) return o.error();
  const auto* policy = o->if_contains("policy");
  if (policy == nullptr || !policy->is_object()) {
    return ProtocolError("rbac/policy answered without a policy object");
  }
  RbacPolicy out;
  out.request_id = StringMember(*o, "request_id");
  out.json = json::serialize(*policy);
  const auto ids = [&](std::string_view list, std::string_view id) {
    std::vector<std::string> v;
    if (const auto* a = policy->get_object().if_contains(list); a != nullptr && a->is_array()) {
      for (const auto& e : a->get_array()) {
        if (e.is_object()) v.push_back(StringMember(e.get_object(), id));
      }
    }
    return v;
  };
  out.role_ids = ids("roles", "role_id");
  out.resource_ids = ids("resources", "resource_id");
  return out;
}

}  // namespace tessera::client
