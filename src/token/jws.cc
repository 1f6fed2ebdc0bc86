#include "tessera/token/jws.h"

#include "common/base64.h"
#include "common/json.h"
#include "tessera/token/jwt.h"

namespace tessera {

Result<std::string> SignCompactJws(const SigningKey& key, std::string_view typ,
                                   std::string_view payload) {
  std::string header = "{\"alg\":\"";
  header += AlgorithmName(key.alg());
  header += "\",\"kid\":";
  AppendJsonString(key.kid(), header);
  header += ",\"typ\":";
  AppendJsonString(typ, header);
  header.push_back('}');

  // Checked before signing: the size is known from the lengths alone, and an RSA signature is
  // the expensive part.
  const std::size_t signing_input_size =
      Base64UrlEncodedSize(header.size()) + 1 + Base64UrlEncodedSize(payload.size());
  if (signing_input_size > kMaxJwtBytes) {
    return Error(ErrorCode::kInputTooLarge, "the JWT would exceed 16 KiB");
  }
  std::string jwt;
  jwt.reserve(signing_input_size + 1 + 700);  // An RSA-4096 signature is 683 characters.
  Base64UrlEncodeAppend(AsBytes(header), jwt);
  jwt.push_back('.');
  Base64UrlEncodeAppend(AsBytes(payload), jwt);
  TESSERA_ASSIGN_OR_RETURN(std::string sig, key.Sign(jwt));
  jwt.push_back('.');
  Base64UrlEncodeAppend(AsBytes(sig), jwt);
  if (jwt.size() > kMaxJwtBytes) {
    return Error(ErrorCode::kInputTooLarge, "the JWT would exceed 16 KiB");
  }
  return jwt;
}

}  // namespace tessera
