#include "common/time_format.h"

#include <chrono>
#include <cstdint>

namespace tessera {
namespace {

void Put2(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  value = v;
  return true;
}

}  // namespace

void AppendRfc3339(TimePoint t, std::string& out) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{secs - day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) {  // Outside RFC 3339's range; clamp rather than write garbage.
    out.append(y < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
    return;
  }
  Put2(out, static_cast<unsigned>(y / 100));
  Put2(out, static_cast<unsigned>(y % 100));
  out.push_back('-');
  Put2(out, static_cast<unsigned>(ymd.month()));
  out.push_back('-');
  Put2(out, static_cast<unsigned>(ymd.day()));
  out.push_back('T');
  Put2(out, static_cast<unsigned>(hms.hours().count()));
  out.push_back(':');
  Put2(out, static_cast<unsigned>(hms.minutes().count()));
  out.push_back(':');
  Put2(out, static_cast<unsigned>(hms.seconds().count()));
  out.push_back('Z');
}

std::string FormatRfc3339(TimePoint t) {
  std::string out;
  out.reserve(20);
  AppendRfc3339(t, out);
  return out;
}

Result<TimePoint> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;
  const auto bad = [] { return Error(ErrorCode::kInvalidArgument, "not an RFC 3339 timestamp"); };
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, se)) {
    return bad();
  }
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
  // TimePoint (nanoseconds in 64 bits) ends in 2262; refuse what it cannot hold rather than wrap.
  if (y < 1700 || y > 2200) {
    return Error(ErrorCode::kInvalidArgument, "RFC 3339 timestamp out of range (years 1700-2200)");
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return bad();
  }
  if (pos >= s.size()) return bad();
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const sys_seconds t =
      sys_days(ymd) + hours(h) + minutes(mi) + seconds(se) - minutes(offset_minutes);
  return TimePoint(t);
}

}  // namespace tessera
