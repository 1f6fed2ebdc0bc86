// libcurl transport: a pool of easy handles, each keeping its own connection cache, so calls reuse
// connections and calls from several threads run in parallel.
#include <curl/curl.h>

#include <mutex>
#include <vector>

#include "tessera/client/transport.h"

namespace tessera::client {
namespace {

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
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
    std::string body;
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
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
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
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Error{ErrorKind::kTimeout, 0, "timeout",
                   std::string("request timed out: ") + curl_easy_strerror(rc), ""};
    }
    if (rc != CURLE_OK) {
      return Error{ErrorKind::kTransport, 0, "connection_failed",
                   std::string("request failed: ") + curl_easy_strerror(rc), ""};
    }
    return HttpResponse{static_cast<int>(status), std::move(body)};
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
