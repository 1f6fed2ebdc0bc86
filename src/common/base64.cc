#include "common/base64.h"

#include <array>

namespace tessera {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, 0xFF for everything else.
constexpr std::array<std::uint8_t, 256> MakeDecodeTable(const char* alphabet) {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}
constexpr auto kUrlDecode = MakeDecodeTable(kUrlAlphabet);
constexpr auto kStdDecode = MakeDecodeTable(kStdAlphabet);

void EncodeWith(const char* alphabet, std::span<const std::uint8_t> in, bool pad,
                std::string& out) {
  const std::size_t full = in.size() / 3;
  const std::size_t rest = in.size() % 3;
  const std::size_t start = out.size();
  out.resize(start + full * 4 + (rest == 0 ? 0 : (pad ? 4 : rest + 1)));
  char* p = out.data() + start;
  const std::uint8_t* s = in.data();
  for (std::size_t i = 0; i < full; ++i, s += 3) {
    const std::uint32_t v = (std::uint32_t{s[0]} << 16) | (std::uint32_t{s[1]} << 8) | s[2];
    *p++ = alphabet[(v >> 18) & 63];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = alphabet[(v >> 6) & 63];
    *p++ = alphabet[v & 63];
  }
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{s[0]} << 16;
    *p++ = alphabet[(v >> 18) & 63];
    *p++ = alphabet[(v >> 12) & 63];
    if (pad) {
      *p++ = '=';
      *p++ = '=';
    }
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{s[0]} << 16) | (std::uint32_t{s[1]} << 8);
    *p++ = alphabet[(v >> 18) & 63];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = alphabet[(v >> 6) & 63];
    if (pad) *p++ = '=';
  }
}

// Decodes unpadded text with `table`; -1 on any deviation from the canonical encoding.
std::ptrdiff_t DecodeWith(const std::array<std::uint8_t, 256>& table, std::string_view in,
                          std::uint8_t* out) {
  const std::size_t n = in.size();
  if (n % 4 == 1) return -1;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  std::uint8_t* o = out;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const std::uint32_t a = table[s[i]], b = table[s[i + 1]], c = table[s[i + 2]],
                        d = table[s[i + 3]];
    if ((a | b | c | d) & 0x80) return -1;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *o++ = static_cast<std::uint8_t>(v >> 16);
    *o++ = static_cast<std::uint8_t>(v >> 8);
    *o++ = static_cast<std::uint8_t>(v);
  }
  const std::size_t rest = n - i;
  if (rest == 2) {
    const std::uint32_t a = table[s[i]], b = table[s[i + 1]];
    if ((a | b) & 0x80) return -1;
    if (b & 0x0F) return -1;  // Unused bits must be zero, or two texts would decode the same.
    *o++ = static_cast<std::uint8_t>((a << 2) | (b >> 4));
  } else if (rest == 3) {
    const std::uint32_t a = table[s[i]], b = table[s[i + 1]], c = table[s[i + 2]];
    if ((a | b | c) & 0x80) return -1;
    if (c & 0x03) return -1;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
    *o++ = static_cast<std::uint8_t>(v >> 16);
    *o++ = static_cast<std::uint8_t>(v >> 8);
  }
  return o - out;
}

}  // namespace

std::string Base64UrlEncode(std::span<const std::uint8_t> in) {
  std::string out;
  EncodeWith(kUrlAlphabet, in, false, out);
  return out;
}

std::string Base64UrlEncode(std::string_view in) { return Base64UrlEncode(AsBytes(in)); }

void Base64UrlEncodeAppend(std::span<const std::uint8_t> in, std::string& out) {
  EncodeWith(kUrlAlphabet, in, false, out);
}

std::string Base64UrlEncodePadded(std::span<const std::uint8_t> in) {
  std::string out;
  EncodeWith(kUrlAlphabet, in, true, out);
  return out;
}

std::ptrdiff_t Base64UrlDecodeInto(std::string_view in, std::uint8_t* out) {
  return DecodeWith(kUrlDecode, in, out);
}

Result<std::string> Base64UrlDecode(std::string_view in) {
  std::string out(Base64UrlMaxDecodedSize(in.size()), '\0');
  const std::ptrdiff_t n = DecodeWith(kUrlDecode, in, reinterpret_cast<std::uint8_t*>(out.data()));
  if (n < 0) return Error(ErrorCode::kMalformedBase64, "not valid unpadded base64url");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Base64Encode(std::span<const std::uint8_t> in) {
  std::string out;
  EncodeWith(kStdAlphabet, in, true, out);
  return out;
}

std::string Base64EncodeUnpadded(std::span<const std::uint8_t> in) {
  std::string s = Base64Encode(in);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

Result<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return Error(ErrorCode::kMalformedBase64, "not valid base64");
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  std::string_view body = in.substr(0, in.size() - pad);
  std::string out(Base64UrlMaxDecodedSize(body.size()), '\0');
  const std::ptrdiff_t n =
      DecodeWith(kStdDecode, body, reinterpret_cast<std::uint8_t*>(out.data()));
  if (n < 0) return Error(ErrorCode::kMalformedBase64, "not valid base64");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace tessera
