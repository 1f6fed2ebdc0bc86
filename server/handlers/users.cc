// /v1/users: create, get, update, delete, search.
#include <boost/json.hpp>

#include "common/json.h"
#include "common/text.h"
#include "common/time_format.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "service/views.h"

namespace tessera::server::handlers {
namespace {

Result<std::vector<std::string>> FilterStrings(const boost::json::value& v, std::string_view name) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.emplace_back(v.get_string());
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (!e.is_string()) break;
      out.emplace_back(e.get_string());
    }
    if (out.size() != v.get_array().size()) out.clear();
  }
  if (out.empty() || out.size() > 1000) {
    return Error(ErrorCode::kInvalidSearchQuery,
                 std::string(name) + " needs a string or a non-empty array of strings.");
  }
  for (const auto& s : out) {
    if (!IsStorableText(s)) {
      return Error(ErrorCode::kInvalidSearchQuery,
                   std::string(name) + " values must not contain NUL characters.");
    }
  }
  return out;
}

Result<TimePoint> FilterTime(const boost::json::value& v, std::string_view name) {
  if (v.is_string()) {
    auto t = ParseRfc3339(v.get_string());
    if (t.ok()) return *t;
  }
  return Error(ErrorCode::kInvalidSearchQuery, std::string(name) + " needs an RFC 3339 timestamp.");
}

Result<UserQuery> ParseUserQuery(const JsonBody& body) {
  UserQuery q;
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> query, body.OptObject("query"));
  if (!query) return q;
  if (const auto op = query->find("operator"); op != query->end() && !op->value().is_null()) {
    if (!op->value().is_string() ||
        (op->value().get_string() != "AND" && op->value().get_string() != "OR")) {
      return Error(ErrorCode::kInvalidSearchQuery, "query.operator must be \"AND\" or \"OR\".");
    }
    q.match_any = op->value().get_string() == "OR";
  }
  const auto operands = query->find("operands");
  if (operands == query->end() || operands->value().is_null()) return q;
  if (!operands->value().is_array() || operands->value().get_array().size() > 32) {
    return Error(ErrorCode::kInvalidSearchQuery, "query.operands must be an array of filters.");
  }
  for (const auto& operand : operands->value().get_array()) {
    if (!operand.is_object()) {
      return Error(ErrorCode::kInvalidSearchQuery, "each operand must be an object.");
    }
    const auto& o = operand.get_object();
    const auto name_it = o.find("filter_name");
    const auto value_it = o.find("filter_value");
    if (name_it == o.end() || !name_it->value().is_string() || value_it == o.end()) {
      return Error(ErrorCode::kInvalidSearchQuery,
                   "each operand needs filter_name and filter_value.");
    }
    const std::string_view name = name_it->value().get_string();
    const boost::json::value& v = value_it->value();
    UserFilter f;
    using K = UserFilter::Kind;
    if (name == "email_address") {
      f.kind = K::kEmailAddress;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "email_id") {
      f.kind = K::kEmailId;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "user_id") {
      f.kind = K::kUserId;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "phone_number") {
      f.kind = K::kPhoneNumber;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "status") {
      f.kind = K::kStatus;
      if (!v.is_string() || (v.get_string() != "active" && v.get_string() != "pending")) {
        return Error(ErrorCode::kInvalidSearchQuery, "status must be \"active\" or \"pending\".");
      }
      f.strings = {std::string(v.get_string())};
    } else if (name == "created_at_greater_than") {
      f.kind = K::kCreatedAtGreaterThan;
      TESSERA_ASSIGN_OR_RETURN(f.time_a, FilterTime(v, name));
    } else if (name == "created_at_less_than") {
      f.kind = K::kCreatedAtLessThan;
      TESSERA_ASSIGN_OR_RETURN(f.time_a, FilterTime(v, name));
    } else if (name == "created_at_between") {
      f.kind = K::kCreatedAtBetween;
      if (!v.is_object() || !v.get_object().contains("greater_than") ||
          !v.get_object().contains("less_than")) {
        return Error(ErrorCode::kInvalidSearchQuery,
                     "created_at_between needs greater_than and less_than.");
      }
      TESSERA_ASSIGN_OR_RETURN(f.time_a, FilterTime(v.get_object().at("greater_than"), name));
      TESSERA_ASSIGN_OR_RETURN(f.time_b, FilterTime(v.get_object().at("less_than"), name));
    } else if (name == "password_exists") {
      f.kind = K::kPasswordExists;
      if (!v.is_bool()) {
        return Error(ErrorCode::kInvalidSearchQuery, "password_exists needs a boolean.");
      }
      f.flag = v.get_bool();
    } else {
      return Error(ErrorCode::kInvalidSearchQuery,
                   "unsupported filter_name \"" + std::string(name) + "\".");
    }
    q.filters.push_back(std::move(f));
  }
  return q;
}

}  // namespace

Result<ApiResponse> UsersCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(UserFields fields, ParseUserFields(body));
  TESSERA_ASSIGN_OR_RETURN(auto user, call.services.users.Create(call.project(), fields, call.now));
  const User& u = user->user;
  Body b(call.request_id);
  b.String("email_id", u.emails.empty() ? "" : u.emails[0].email_id);
  b.String("phone_id", u.phone_numbers.empty() ? "" : u.phone_numbers[0].phone_id);
  b.String("status", u.status);
  AppendUserValue(*user, call.now, b.Key("user"));
  b.String("user_id", u.user_id);
  return b.Close();
}

Result<ApiResponse> UsersGet(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(auto user,
                           call.services.users.Get(call.project(), call.Param("user_id")));
  Body b(call.request_id);
  std::string& out = b.Key("user");
  // users.get flattens the user into the response (spec §2.9); "user" is not a member, so undo
  // the key just written and append the members instead.
  out.resize(out.size() - std::string_view(",\"user\":").size());
  out.push_back(',');
  AppendUserMembers(user->rendered, user->LockedAt(call.now), out);
  return b.Close();
}

Result<ApiResponse> UsersUpdate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(UserFields fields, ParseUserFields(body));
  // Only these members are updatable; email/phone changes have their own routes in Stytch.
  fields.email.reset();
  fields.phone_number.reset();
  TESSERA_ASSIGN_OR_RETURN(auto user, call.services.users.Update(
                                          call.project(), call.Param("user_id"), fields, call.now));
  Body b(call.request_id);
  b.Raw("crypto_wallets", "[]");
  AppendEmails(user->user, b.Key("emails"));
  AppendPhones(user->user, b.Key("phone_numbers"));
  AppendUserValue(*user, call.now, b.Key("user"));
  b.String("user_id", user->user.user_id);
  return b.Close();
}

Result<ApiResponse> UsersDelete(Call& call) {
  UserService& users = call.services.users;
  TESSERA_ASSIGN_OR_RETURN(auto user, users.Get(call.project(), call.Param("user_id")));
  TESSERA_RETURN_IF_ERROR(users.Delete(call.project(), user->user.user_id, call.now));
  Body b(call.request_id);
  b.String("user_id", user->user.user_id);
  return b.Close();
}

Result<ApiResponse> UsersSearch(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(auto cursor, body.OptString("cursor"));
  TESSERA_ASSIGN_OR_RETURN(auto limit, body.OptInt("limit"));
  if (limit && (*limit < 1 || *limit > 1000)) {
    return Error(ErrorCode::kBadRequest, "limit must be between 1 and 1000.");
  }
  TESSERA_ASSIGN_OR_RETURN(UserQuery query, ParseUserQuery(body));
  TESSERA_ASSIGN_OR_RETURN(UserPage page,
                           call.services.users.Search(call.project(), query, cursor.value_or(""),
                                                      static_cast<int>(limit.value_or(100))));
  Body b(call.request_id);
  std::string& out = b.Key("results");
  out.push_back('[');
  for (std::size_t i = 0; i < page.users.size(); ++i) {
    if (i > 0) out.push_back(',');
    const bool locked = page.users[i].locked_until && *page.users[i].locked_until > call.now;
    AppendUser(RenderUser(page.users[i]), locked, out);
  }
  out.push_back(']');
  std::string& meta = b.Key("results_metadata");
  meta += "{\"next_cursor\":";
  if (page.next) {
    AppendJsonString(UserService::EncodeCursor(*page.next), meta);
  } else {
    meta += "null";
  }
  meta += ",\"total\":" + std::to_string(page.total) + "}";
  return b.Close();
}

}  // namespace tessera::server::handlers
