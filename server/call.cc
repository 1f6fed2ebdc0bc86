#include "server/call.h"

#include <cassert>

#include "common/json.h"

namespace tessera::server {

std::string_view Call::Param(std::string_view name) const {
  for (std::size_t i = 0; i < param_names_.size() && i < params_.size(); ++i) {
    if (param_names_[i] == name) return params_[i];
  }
  assert(false && "the route's pattern has no such parameter");
  return {};
}

Result<ApiResponse> Call::ToWorker() {
  assert(!on_worker_);
  wants_worker_ = true;
  return ApiResponse{};
}

Body::Body(std::string_view request_id) : request_id_(request_id) {
  s_.reserve(2048);
  s_ += "{\"request_id\":";
  AppendJsonString(request_id, s_);
  s_ += ",\"status_code\":200";
}

std::string& Body::Key(std::string_view k) {
  s_ += ",\"";
  s_ += k;
  s_ += "\":";
  return s_;
}

void Body::String(std::string_view k, std::string_view v) { AppendJsonString(v, Key(k)); }

void Body::Plain(std::string_view k, std::string_view v) {
  std::string& out = Key(k);
  out.push_back('"');
  out += v;
  out.push_back('"');
}

void Body::Members(std::string_view object) {
  assert(object.size() > 2 && object.front() == '{' && object.back() == '}');
  s_.push_back(',');
  s_.append(object.substr(1, object.size() - 2));
}

ApiResponse Body::Close() {
  s_.push_back('}');
  ApiResponse r;
  r.body = std::move(s_);
  r.request_id = std::string(request_id_);
  return r;
}

}  // namespace tessera::server
