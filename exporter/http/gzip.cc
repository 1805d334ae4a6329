// gzip with zlib (zlib.h): a shared prefix flushed with Z_SYNC_FLUSH, then a
// per-response tail; the CRC-32 of the whole comes from crc32_combine.
#include "http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace nsexp {

namespace {

// Raw deflate (no zlib or gzip wrapper: we write the gzip header and
// trailer ourselves), default memory level and strategy.
constexpr int kRawDeflate = -MAX_WBITS;

// Bytes of output room Deflate() adds at a time.
constexpr std::size_t kSlice = std::size_t{64} * 1024;

// Deflates "in" onto *out, ending with "flush" (Z_SYNC_FLUSH: byte-aligned,
// not final; Z_FINISH: final block).
Status Deflate(std::string_view in, int level, int flush, std::string* out) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, kRawDeflate, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::IoError("zlib deflateInit2 failed");
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  std::size_t left = in.size();
  int rc = Z_OK;
  do {
    // avail_in is 32-bit: feed at most 1 GiB at a time.
    const std::size_t chunk = left < (1u << 30) ? left : (1u << 30);
    z.avail_in = static_cast<uInt>(chunk);
    left -= chunk;
    const int mode = left == 0 ? flush : Z_NO_FLUSH;
    do {
      // The output grows a slice at a time: resize() writes every byte it
      // adds, so room for deflateBound() of the whole input (about the
      // input's size) would stay resident for the life of the result, ten
      // times what the compressed bytes need.
      const std::size_t before = out->size();
      const std::size_t room =
          std::min<std::size_t>(deflateBound(&z, z.avail_in) + 64, kSlice);
      out->resize(before + room);
      z.next_out = reinterpret_cast<Bytef*>(out->data() + before);
      z.avail_out = static_cast<uInt>(room);
      rc = deflate(&z, mode);
      out->resize(before + room - z.avail_out);
    } while (rc == Z_OK && z.avail_out == 0);
  } while (left > 0 && rc == Z_OK);
  deflateEnd(&z);
  if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    return Status::IoError("zlib deflate failed");
  }
  return Status::Ok();
}

std::uint32_t Crc(std::uint32_t crc, std::string_view data) {
  uLong c = crc;
  std::size_t done = 0;
  while (done < data.size()) {
    const std::size_t n =
        data.size() - done < (1u << 30) ? data.size() - done : (1u << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(data.data() + done),
              static_cast<uInt>(n));
    done += n;
  }
  return static_cast<std::uint32_t>(c);
}

void PutLe32(std::uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The q value of one coding's parameters ("q=0.5"); 1 when absent, 0 when
// malformed.
double Quality(std::string_view params) {
  while (!params.empty()) {
    const std::size_t semi = params.find(';');
    const std::string_view p = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? "" : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      const std::string v(Trim(p.substr(2)));
      char* end = nullptr;
      const double q = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || q < 0 || q > 1) return 0;
      return q;
    }
  }
  return 1;
}

}  // namespace

Status GzipStart(std::string_view data, int level, GzipPrefix* out) {
  GzipPrefix p;
  // ID1 ID2, CM=deflate, no flags, no mtime, XFL 0, OS 3 (Unix).
  p.bytes.assign("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  Status s = Deflate(data, level, Z_SYNC_FLUSH, &p.bytes);
  if (!s.ok()) return s;
  p.crc = Crc(0, data);
  p.size = data.size();
  *out = std::move(p);
  return Status::Ok();
}

Status GzipFinish(const GzipPrefix& prefix, std::string_view tail, int level,
                  std::string* out) {
  std::string bytes;
  Status s = Deflate(tail, level, Z_FINISH, &bytes);
  if (!s.ok()) return s;
  const std::uint32_t crc = static_cast<std::uint32_t>(crc32_combine(
      prefix.crc, Crc(0, tail), static_cast<z_off_t>(tail.size())));
  PutLe32(crc, &bytes);
  // ISIZE: the size modulo 2^32 (RFC 1952 section 2.3.1).
  PutLe32(static_cast<std::uint32_t>(prefix.size + tail.size()), &bytes);
  *out = std::move(bytes);
  return Status::Ok();
}

bool AcceptsGzip(std::string_view header) {
  bool gzip = false, gzip_refused = false, star = false;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? "" : header.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view coding = Trim(item.substr(0, semi));
    const double q =
        semi == std::string_view::npos ? 1 : Quality(item.substr(semi + 1));
    if (EqualsIgnoreCase(coding, "gzip") ||
        EqualsIgnoreCase(coding, "x-gzip")) {
      (q > 0 ? gzip : gzip_refused) = true;
    } else if (coding == "*" && q > 0) {
      star = true;
    }
  }
  return gzip || (star && !gzip_refused);
}

}  // namespace nsexp
