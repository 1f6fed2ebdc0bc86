// libcurl transport: a pool of easy handles, each keeping its own connection cache, so calls reuse
// connections and calls from several threads run in parallel.
#include <curl/curl.h>

#include <mutex>
#include <vector>

#include "tessera/client/transport.h"

namespace tessera::client {
namespace {

// The response body as it arrives, never more than `limit` bytes of it.
struct Sink {
  std::string body;
  std::size_t limit = 0;
  bool too_large = false;
};

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
  auto* sink = static_cast<Sink*>(out);
  const std::size_t bytes = size * n;
  if (bytes > sink->limit - sink->body.size()) {
    // Returning less than `bytes` makes curl abort the transfer (CURLE_WRITE_ERROR): a body
    // without a Content-Length, or one longer than it announced, is cut off here.
    sink->too_large = true;
    return 0;
  }
  sink->body.append(data, bytes);
  return bytes;
}

Error TooLarge(std::size_t limit) {
  return Error{ErrorKind::kResponseTooLarge, 0, "response_too_large",
               "the response body is larger than the limit of " + std::to_string(limit) + " bytes",
               ""};
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions options) : options_(options) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  Outcome<HttpResponse> Send(const HttpRequest& request) override {
    CURL* h = Borrow();
    if (h == nullptr) {
      return Error{ErrorKind::kTransport, 0, "connection_failed", "cannot create a curl handle",
                   ""};
    }
    curl_easy_reset(h);  // Keeps the handle's connection cache; clears the previous options.
    Sink sink;
    sink.limit = request.max_response_bytes;
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : request.headers) {
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    }
    // No "Expect: 100-continue" round trip for small bodies.
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // Required for timeouts in threaded programs.
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    // A Content-Length over the limit fails before the body is read (CURLE_FILESIZE_EXCEEDED).
    // 0 would mean "no limit" to curl; Collect still refuses every byte then.
    if (request.max_response_bytes > 0) {
      curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(request.max_response_bytes));
    }
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tessera-cpp-sdk/0.1");
    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
    const CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    Return(h);
    if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && sink.too_large)) {
      return TooLarge(request.max_response_bytes);
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Error{ErrorKind::kTimeout, 0, "timeout",
                   std::string("request timed out: ") + curl_easy_strerror(rc), ""};
    }
    if (rc != CURLE_OK) {
      return Error{ErrorKind::kTransport, 0, "connection_failed",
                   std::string("request failed: ") + curl_easy_strerror(rc), ""};
    }
    return HttpResponse{static_cast<int>(status), std::move(sink.body)};
  }

 private:
  CURL* Borrow() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Return(CURL* h) {
    std::lock_guard lock(mu_);
    if (idle_.size() < options_.max_idle_handles) {
      idle_.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  CurlTransportOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // GUARDED_BY(mu_)
};

}  // namespace

std::shared_ptr<Transport> NewCurlTransport(const CurlTransportOptions& options) {
  return std::make_shared<CurlTransport>(options);
}

}  // namespace tessera::client
