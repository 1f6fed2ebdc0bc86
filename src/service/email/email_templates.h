// The emails Tessera sends: a subject, a plain-text body and an HTML body per kind of message,
// built in, each replaceable from a directory (docs/email.md, "Templates").
//
// A template is text with {{placeholders}}: project_name, email, link, login_link, code,
// expiration_minutes. Values are inserted as they are in subjects and plain text and
// HTML-escaped in HTML. Templates are read once, at start-up; a bad directory fails the start.
#ifndef TESSERA_SERVICE_EMAIL_EMAIL_TEMPLATES_H_
#define TESSERA_SERVICE_EMAIL_EMAIL_TEMPLATES_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera {

enum class EmailKind {
  kMagicLinkLogin,   // "magic_link_login"
  kMagicLinkSignup,  // "magic_link_signup"
  kInvite,           // "invite"
  kOtpLogin,         // "otp_login"
  kOtpSignup,        // "otp_signup"
  kResetPassword,    // "reset_password"
};

std::string_view EmailKindName(EmailKind kind);

struct EmailContent {
  std::string subject;
  std::string text;
  std::string html;  // "" sends a text-only message.
};

struct EmailValues {
  std::string project_name;
  std::string email;
  std::string link;        // The magic, invite or reset link.
  std::string login_link;  // A reset email's "log in without a password" link; "" for none.
  std::string code;        // A passcode.
  std::int64_t expiration_minutes = 0;
};

class EmailTemplates {
 public:
  // The built-in templates, replaced by whatever `dir` holds ("" for none): for a kind,
  // `<kind name>.subject`, `.txt` and `.html` (each file optional; a missing one keeps the
  // built-in); any other `<id>.subject` + `<id>.txt` (+ `<id>.html`) is a custom template that
  // requests name by id (`login_template_id` and the like). kInvalidArgument for an unreadable
  // directory or an incomplete custom template.
  static Result<EmailTemplates> Load(const std::string& dir);

  // True when `template_id` names a custom template.
  bool Has(std::string_view template_id) const;

  // The message for `kind`, from the custom template `template_id` when given.
  // kEmailTemplateNotFound for an unknown id.
  Result<EmailContent> Render(EmailKind kind, std::optional<std::string_view> template_id,
                              const EmailValues& values) const;

 private:
  std::map<std::string, EmailContent, std::less<>> templates_;  // By kind name or custom id.
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_EMAIL_EMAIL_TEMPLATES_H_
