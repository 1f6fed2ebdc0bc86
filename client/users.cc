// Users: the /v1/users endpoints.
#include "tessera/client/client.h"
// ^ This file's own header: first, so it must compile alone.

#include <boost/json.hpp>
#include <utility>

#include "client/api_common.h"
#include "client/client_impl.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

}  // namespace

Outcome<CreateUserResponse> Users::Create(const CreateUserRequest& r) {
  json::object body;
  if (r.email) body["email"] = *r.email;
  if (r.phone_number) body["phone_number"] = *r.phone_number;
  if (r.first_name || r.last_name) {
    json::object name;
    if (r.first_name) name["first_name"] = *r.first_name;
    if (r.last_name) name["last_name"] = *r.last_name;
    body["name"] = std::move(name);
  }
  if (r.trusted_metadata_json) {
    auto meta = ParseClaimsJson(r.trusted_metadata_json, "trusted_metadata_json");
    if (!meta.ok()) return meta.error();
    body["trusted_metadata"] = std::move(*meta);
  }
  if (r.external_id) body["external_id"] = *r.external_id;
  if (r.roles) body["roles"] = ToJsonArray(*r.roles);
  auto o = c_.impl().Call("POST", "/v1/users", body);
  if (!o.ok()) return o.error();
  const auto* user = o->if_contains("user");
  if (user == nullptr || !user->is_object()) return ProtocolError("users.create without user");
  CreateUserResponse out;
  out.request_id = StringMember(*o, "request_id");
  out.user_id = StringMember(*o, "user_id");
  out.email_id = StringMember(*o, "email_id");
  out.status = StringMember(*o, "status");
  out.user = UserFromApi(user->get_object());
  return out;
}

Outcome<User> Users::Get(std::string_view user_id) {
  auto o = c_.impl().Call("GET", "/v1/users/" + UrlEncode(user_id), std::nullopt);
  if (!o.ok()) return o.error();
  o->erase("request_id");
  o->erase("status_code");
  return UserFromApi(*o);
}

Outcome<std::string> Users::Delete(std::string_view user_id) {
  auto o = c_.impl().Call("DELETE", "/v1/users/" + UrlEncode(user_id), json::object{});
  if (!o.ok()) return o.error();
  return StringMember(*o, "user_id");
}

}  // namespace tessera::client
