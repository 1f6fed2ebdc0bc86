#include "service/email/email_templates.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tessera {
namespace {

constexpr EmailKind kKinds[] = {EmailKind::kMagicLinkLogin, EmailKind::kMagicLinkSignup,
                                EmailKind::kInvite,         EmailKind::kOtpLogin,
                                EmailKind::kOtpSignup,      EmailKind::kResetPassword};

// The built-in templates: short, plain, naming the project, saying how long the link or code
// lasts, and what to do if the mail was not expected.
EmailContent BuiltIn(EmailKind kind) {
  constexpr std::string_view kHtmlHead =
      "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif;line-height:1.5\">\n";
  constexpr std::string_view kHtmlTail = "</body></html>\n";
  EmailContent c;
  const auto html = [&](std::string_view body) {
    return std::string(kHtmlHead) + std::string(body) + std::string(kHtmlTail);
  };
  switch (kind) {
    case EmailKind::kMagicLinkLogin:
      c.subject = "Your login link for {{project_name}}";
      c.text =
          "Hello,\n\nFollow this link to log in to {{project_name}}:\n\n{{link}}\n\n"
          "The link works once and expires in {{expiration_minutes}} minutes. If you did not ask "
          "to log in, you can ignore this email.\n";
      c.html = html(
          "<p>Hello,</p>\n<p><a href=\"{{link}}\">Log in to {{project_name}}</a></p>\n"
          "<p>The link works once and expires in {{expiration_minutes}} minutes. If you did not "
          "ask to log in, you can ignore this email.</p>\n");
      break;
    case EmailKind::kMagicLinkSignup:
      c.subject = "Finish signing up for {{project_name}}";
      c.text =
          "Hello,\n\nFollow this link to finish signing up for {{project_name}}:\n\n{{link}}\n\n"
          "The link works once and expires in {{expiration_minutes}} minutes. If you did not sign "
          "up, you can ignore this email.\n";
      c.html = html(
          "<p>Hello,</p>\n<p><a href=\"{{link}}\">Finish signing up for {{project_name}}</a></p>\n"
          "<p>The link works once and expires in {{expiration_minutes}} minutes. If you did not "
          "sign up, you can ignore this email.</p>\n");
      break;
    case EmailKind::kInvite:
      c.subject = "You are invited to {{project_name}}";
      c.text =
          "Hello,\n\nYou have been invited to {{project_name}}. Follow this link to accept:\n\n"
          "{{link}}\n\nThe link works once and expires in {{expiration_minutes}} minutes.\n";
      c.html = html(
          "<p>Hello,</p>\n<p>You have been invited to {{project_name}}.</p>\n"
          "<p><a href=\"{{link}}\">Accept the invitation</a></p>\n"
          "<p>The link works once and expires in {{expiration_minutes}} minutes.</p>\n");
      break;
    case EmailKind::kOtpLogin:
    case EmailKind::kOtpSignup:
      c.subject = "Your {{project_name}} code is {{code}}";
      c.text =
          "Hello,\n\nYour code for {{project_name}} is:\n\n    {{code}}\n\nIt works once and "
          "expires in {{expiration_minutes}} minutes. If you did not ask for it, you can ignore "
          "this email.\n";
      c.html = html(
          "<p>Hello,</p>\n<p>Your code for {{project_name}} is:</p>\n"
          "<p style=\"font-size:2em;letter-spacing:0.2em\"><b>{{code}}</b></p>\n"
          "<p>It works once and expires in {{expiration_minutes}} minutes. If you did not ask for "
          "it, you can ignore this email.</p>\n");
      break;
    case EmailKind::kResetPassword:
      c.subject = "Reset your {{project_name}} password";
      c.text =
          "Hello,\n\nFollow this link to choose a new password for {{project_name}}:\n\n{{link}}"
          "\n\nThe link works once and expires in {{expiration_minutes}} minutes.{{#login_link}}"
          "\n\nOr log in without a password:\n\n{{login_link}}{{/login_link}}\n\nIf you did not "
          "ask "
          "to reset your password, you can ignore this email.\n";
      c.html = html(
          "<p>Hello,</p>\n<p><a href=\"{{link}}\">Choose a new password for "
          "{{project_name}}</a></p>\n<p>The link works once and expires in "
          "{{expiration_minutes}} minutes.</p>\n{{#login_link}}<p><a href=\"{{login_link}}\">Log "
          "in without a password</a></p>\n{{/login_link}}<p>If you did not ask to reset your "
          "password, you can ignore this email.</p>\n");
      break;
  }
  return c;
}

void AppendHtmlEscaped(std::string_view s, std::string& out) {
  for (const char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(ch);
    }
  }
}

// Fills {{name}} placeholders; {{#name}}...{{/name}} keeps its inside only when the value is not
// empty. Unknown placeholders are left as they are, so a typo shows in the message.
std::string Fill(std::string_view tpl, const EmailValues& v, bool html) {
  const auto value = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "project_name") return v.project_name;
    if (name == "email") return v.email;
    if (name == "link") return v.link;
    if (name == "login_link") return v.login_link;
    if (name == "code") return v.code;
    if (name == "expiration_minutes") return std::to_string(v.expiration_minutes);
    return std::nullopt;
  };
  std::string out;
  std::size_t i = 0;
  while (i < tpl.size()) {
    const std::size_t open = tpl.find("{{", i);
    if (open == std::string_view::npos) {
      out += tpl.substr(i);
      break;
    }
    out += tpl.substr(i, open - i);
    const std::size_t close = tpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out += tpl.substr(open);
      break;
    }
    const std::string_view name = tpl.substr(open + 2, close - open - 2);
    if (name.starts_with('#')) {
      const std::string end = "{{/" + std::string(name.substr(1)) + "}}";
      const std::size_t end_at = tpl.find(end, close + 2);
      if (end_at == std::string_view::npos) {
        i = close + 2;
        continue;
      }
      const auto v2 = value(name.substr(1));
      if (v2 && !v2->empty()) out += Fill(tpl.substr(close + 2, end_at - close - 2), v, html);
      i = end_at + end.size();
      continue;
    }
    if (const auto val = value(name)) {
      if (html) {
        AppendHtmlEscaped(*val, out);
      } else {
        out += *val;
      }
    } else {
      out += tpl.substr(open, close + 2 - open);
    }
    i = close + 2;
  }
  return out;
}

Result<std::optional<std::string>> ReadIfPresent(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return std::optional<std::string>();
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error(ErrorCode::kInvalidArgument, "cannot read email template " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return std::optional<std::string>(s.str());
}

bool IsTemplateId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return id.front() != '.';
}

}  // namespace

std::string_view EmailKindName(EmailKind kind) {
  switch (kind) {
    case EmailKind::kMagicLinkLogin:
      return "magic_link_login";
    case EmailKind::kMagicLinkSignup:
      return "magic_link_signup";
    case EmailKind::kInvite:
      return "invite";
    case EmailKind::kOtpLogin:
      return "otp_login";
    case EmailKind::kOtpSignup:
      return "otp_signup";
    case EmailKind::kResetPassword:
      return "reset_password";
  }
  return "magic_link_login";  // Unreachable for valid enumerators.
}

Result<EmailTemplates> EmailTemplates::Load(const std::string& dir) {
  EmailTemplates t;
  for (const EmailKind k : kKinds) t.templates_[std::string(EmailKindName(k))] = BuiltIn(k);
  if (dir.empty()) return t;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error(ErrorCode::kInvalidArgument, "--email-templates " + dir + " is not a directory");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string stem = entry.path().stem().string();
    const std::string ext = entry.path().extension().string();
    if (ext != ".subject" && ext != ".txt" && ext != ".html") continue;
    if (!IsTemplateId(stem)) {
      return Error(ErrorCode::kInvalidArgument,
                   "email template file " + entry.path().string() +
                       ": names are letters, digits, '-', '_' and '.'");
    }
    EmailContent& c = t.templates_[stem];
    TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadIfPresent(entry.path()));
    if (!text) continue;
    if (ext == ".subject") {
      // One line: a header may not carry a line break.
      std::string line = *text;
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (line.find_first_of("\r\n") != std::string::npos) {
        return Error(ErrorCode::kInvalidArgument,
                     "email template " + entry.path().string() + " must be one line");
      }
      c.subject = line;
    } else if (ext == ".txt") {
      c.text = *text;
    } else {
      c.html = *text;
    }
  }
  if (ec) return Error(ErrorCode::kInvalidArgument, "cannot list " + dir + ": " + ec.message());
  for (const auto& [id, c] : t.templates_) {
    if (c.subject.empty() || c.text.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "email template \"" + id + "\" in " + dir + " needs a .subject and a .txt file");
    }
  }
  return t;
}

bool EmailTemplates::Has(std::string_view template_id) const {
  if (!IsTemplateId(template_id)) return false;
  return templates_.find(template_id) != templates_.end();
}

Result<EmailContent> EmailTemplates::Render(EmailKind kind,
                                            std::optional<std::string_view> template_id,
                                            const EmailValues& values) const {
  const std::string_view id = template_id ? *template_id : EmailKindName(kind);
  const auto it = IsTemplateId(id) ? templates_.find(id) : templates_.end();
  if (it == templates_.end()) {
    return Error(ErrorCode::kEmailTemplateNotFound, "Email Template could not be found.");
  }
  EmailContent out;
  out.subject = Fill(it->second.subject, values, false);
  out.text = Fill(it->second.text, values, false);
  if (!it->second.html.empty()) out.html = Fill(it->second.html, values, true);
  return out;
}

}  // namespace tessera
