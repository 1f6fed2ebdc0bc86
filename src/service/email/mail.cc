#include "service/email/mail.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/base64.h"
#include "common/json.h"

namespace tessera {
namespace {

bool IsAscii(std::string_view s) {
  for (const unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

std::string NoLineBreaks(std::string_view s) {
  std::string out;
  for (const char c : s) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

// RFC 2047 "B" encoding for a header value that is not plain ASCII.
std::string EncodeHeader(std::string_view value) {
  const std::string v = NoLineBreaks(value);
  if (IsAscii(v)) return v;
  return "=?UTF-8?B?" + Base64Encode(AsBytes(v)) + "?=";
}

// Base64 in lines of 76 characters.
std::string Base64Lines(std::string_view data) {
  const std::string b = Base64Encode(AsBytes(data));
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76) {
    out += b.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

// True when `body` can go as 8bit: no line longer than 998 octets, no lone CR, no NUL.
bool Fits8bit(std::string_view body) {
  std::size_t line = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\0') return false;
    if (c == '\r' && (i + 1 >= body.size() || body[i + 1] != '\n')) return false;
    if (c == '\n') {
      line = 0;
    } else if (++line > 998) {
      return false;
    }
  }
  return true;
}

std::string Crlf(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) out.push_back('\r');
    out.push_back(body[i]);
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string Part(std::string_view type, std::string_view body) {
  std::string out = "Content-Type: " + std::string(type) + "; charset=utf-8\r\n";
  if (Fits8bit(body)) {
    out += std::string("Content-Transfer-Encoding: ") + (IsAscii(body) ? "7bit" : "8bit") +
           "\r\n\r\n" + Crlf(body);
  } else {
    out += "Content-Transfer-Encoding: base64\r\n\r\n" + Base64Lines(body);
  }
  return out;
}

std::string FormatDate(TimePoint t) {
  const std::time_t tt = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string FormatMailbox(const Mailbox& m) {
  if (m.display_name.empty()) return m.address;
  std::string name = NoLineBreaks(m.display_name);
  if (!IsAscii(name)) return EncodeHeader(name) + " <" + m.address + ">";
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return quoted + "\" <" + m.address + ">";
}

bool IsPlainAddress(std::string_view a) {
  const std::size_t at = a.find('@');
  if (a.empty() || a.size() > 254 || at == 0 || at == std::string_view::npos ||
      at + 1 == a.size() || a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (const unsigned char c : a) {
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' ||
        c == '\\') {
      return false;
    }
  }
  return true;
}

class FileTransport final : public MailTransport {
 public:
  explicit FileTransport(std::string dir) : dir_(std::move(dir)) {}

  Status Send(const Mailbox&, std::string_view, std::string_view mime,
              std::string_view message_id) override {
    // Written beside its final name and renamed: a reader never sees half a message.
    const std::string final_path = dir_ + "/" + std::string(message_id) + ".eml";
    const std::string tmp = final_path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
      return Error(ErrorCode::kStoreUnavailable,
                   "cannot write " + tmp + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < mime.size()) {
      const ssize_t n = ::write(fd, mime.data() + done, mime.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        return Error(ErrorCode::kStoreUnavailable, "cannot write " + tmp + ": " + err);
      }
      done += static_cast<std::size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      return Error(ErrorCode::kStoreUnavailable,
                   "cannot rename " + tmp + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }
  std::string Describe() const override { return "file:" + dir_; }

 private:
  std::string dir_;
};

struct ReadState {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t ReadBody(char* buffer, std::size_t size, std::size_t items, void* user) {
  auto* s = static_cast<ReadState*>(user);
  const std::size_t room = size * items;
  const std::size_t n = std::min(room, s->data.size() - s->offset);
  std::memcpy(buffer, s->data.data() + s->offset, n);
  s->offset += n;
  return n;
}

class SmtpTransport final : public MailTransport {
 public:
  SmtpTransport(std::string url, std::string described, SmtpOptions options)
      : url_(std::move(url)), described_(std::move(described)), options_(std::move(options)) {}

  Status Send(const Mailbox& from, std::string_view to, std::string_view mime,
              std::string_view) override {
    CURL* c = curl_easy_init();
    if (c == nullptr) return Error(ErrorCode::kInternal, "curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = {0};
    // Appended piece by piece: `"<" + ...` trips GCC 12's false -Wrestrict (bug 105329).
    std::string mail_from = "<";
    mail_from.append(from.address).append(">");
    std::string rcpt_to = "<";
    rcpt_to.append(to).append(">");
    curl_slist* rcpt = curl_slist_append(nullptr, rcpt_to.c_str());
    ReadState state{mime, 0};
    curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &state);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count() * 1000));
    curl_easy_setopt(
        c, CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::min<std::int64_t>(options_.timeout.count(), 10) * 1000));
    const long ssl = options_.starttls == "required" ? CURLUSESSL_ALL
                     : options_.starttls == "never"  ? CURLUSESSL_NONE
                                                     : CURLUSESSL_TRY;
    curl_easy_setopt(c, CURLOPT_USE_SSL, ssl);
    const CURLcode rc = curl_easy_perform(c);
    long response = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
      std::string msg = described_ + ": " + curl_easy_strerror(rc);
      if (errbuf[0] != '\0') msg += std::string(" (") + NoLineBreaks(errbuf) + ")";
      if (response != 0) msg += ", last reply " + std::to_string(response);
      return Error(ErrorCode::kStoreUnavailable, msg);
    }
    return Status::Ok();
  }
  std::string Describe() const override { return described_; }

 private:
  std::string url_;
  std::string described_;
  SmtpOptions options_;
};

}  // namespace

Result<OutboxMessage> SealMail(const MasterKey& key, RandomSource& random, std::string message_id,
                               std::string project_id, const MailContent& mail, TimePoint now,
                               TimePoint expires_at) {
  const boost::json::object payload{{"to", mail.to},
                                    {"subject", mail.content.subject},
                                    {"text", mail.content.text},
                                    {"html", mail.content.html}};
  std::string plain = boost::json::serialize(payload);
  OutboxMessage m;
  TESSERA_ASSIGN_OR_RETURN(m.sealed,
                           key.Seal(SealPurpose::kOutboxMessage, plain, message_id, random));
  std::fill(plain.begin(), plain.end(), '\0');
  m.message_id = std::move(message_id);
  m.project_id = std::move(project_id);
  m.created_at = now;
  m.next_attempt_at = now;
  m.expires_at = expires_at;
  return m;
}

Result<MailContent> OpenMail(const MasterKey& key, const OutboxMessage& message) {
  TESSERA_ASSIGN_OR_RETURN(
      std::string plain, key.Open(SealPurpose::kOutboxMessage, message.sealed, message.message_id));
  auto parsed = ParseJsonObject(plain, 4);
  std::fill(plain.begin(), plain.end(), '\0');
  if (!parsed.ok()) return Error(ErrorCode::kStoreCorrupt, "an outbox message is not valid");
  MailContent m;
  const auto get = [&](const char* k) -> std::string {
    const auto* v = parsed->if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  m.to = get("to");
  m.content.subject = get("subject");
  m.content.text = get("text");
  m.content.html = get("html");
  return m;
}

Result<Mailbox> ParseMailbox(std::string_view text) {
  const auto bad = [&] {
    return Error(
        ErrorCode::kInvalidArgument,
        "--email-from must be an address or 'Name <address>' (got \"" + std::string(text) + "\")");
  };
  Mailbox m;
  const std::size_t lt = text.rfind('<');
  if (lt == std::string_view::npos) {
    m.address = std::string(text);
  } else {
    if (!text.ends_with('>')) return bad();
    m.address = std::string(text.substr(lt + 1, text.size() - lt - 2));
    std::string_view name = text.substr(0, lt);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    m.display_name = NoLineBreaks(name);
  }
  if (!IsPlainAddress(m.address)) return bad();
  return m;
}

std::string BuildMime(const Mailbox& from, const MailContent& mail, std::string_view message_id,
                      TimePoint date) {
  const std::string domain = from.address.substr(from.address.find('@') + 1);
  std::string out;
  out += "From: " + FormatMailbox(from) + "\r\n";
  out += "To: " + NoLineBreaks(mail.to) + "\r\n";
  out += "Subject: " + EncodeHeader(mail.content.subject) + "\r\n";
  out += "Date: " + FormatDate(date) + "\r\n";
  out += "Message-ID: <" + std::string(message_id) + "@" + domain + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  if (mail.content.html.empty()) {
    out += Part("text/plain", mail.content.text);
    return out;
  }
  const std::string boundary = "tessera-" + std::string(message_id);
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + Part("text/plain", mail.content.text);
  out += "--" + boundary + "\r\n" + Part("text/html", mail.content.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

Result<std::unique_ptr<MailTransport>> NewMailTransport(const std::string& url,
                                                        const SmtpOptions& options) {
  if (options.starttls != "try" && options.starttls != "required" && options.starttls != "never") {
    return Error(ErrorCode::kInvalidArgument, "--smtp-starttls must be try, required or never");
  }
  if (options.timeout.count() < 1 || options.timeout.count() > 600) {
    return Error(ErrorCode::kInvalidArgument, "--smtp-timeout-seconds must be 1..600");
  }
  if (url.starts_with("file:")) {
    std::string dir = url.substr(5);
    if (dir.empty()) return Error(ErrorCode::kInvalidArgument, "--smtp-url file:DIR needs a DIR");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!std::filesystem::is_directory(dir, ec)) {
      return Error(ErrorCode::kInvalidArgument, "--smtp-url " + url + ": not a directory");
    }
    return std::unique_ptr<MailTransport>(new FileTransport(std::move(dir)));
  }
  const bool smtps = url.starts_with("smtps://");
  if (!smtps && !url.starts_with("smtp://")) {
    return Error(ErrorCode::kInvalidArgument,
                 "--smtp-url must be smtp://[user:pass@]host:port, smtps://... or file:DIR");
  }
  // For logs: the URL without its credentials.
  const std::size_t scheme_end = url.find("://") + 3;
  std::string rest = url.substr(scheme_end);
  const std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (const std::size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return Error(ErrorCode::kInvalidArgument, "--smtp-url needs a host");
  return std::unique_ptr<MailTransport>(
      new SmtpTransport(url, url.substr(0, scheme_end) + authority, options));
}

void InitMail() { curl_global_init(CURL_GLOBAL_DEFAULT); }

}  // namespace tessera
