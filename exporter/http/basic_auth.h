// BasicAuth: HTTP basic authentication against bcrypt hashes.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace nsexp {

// Checks "Authorization: Basic ..." headers against a fixed table of
// user -> bcrypt hash ($2a$, $2b$, $2y$), verified with libxcrypt's crypt_r.
//
// Timing: a user that is not in the table is checked against a dummy hash
// of the cost most users have, so a wrong user costs as much as a wrong
// password. Verified (user, password, hash) triples are remembered as an
// HMAC-SHA-256 under a key drawn at start-up (never the password itself),
// at most kCacheEntries of them, so that a scraper's repeated good
// credentials cost one bcrypt per process lifetime, not one per scrape.
// Failures are never cached: each costs a full bcrypt.
//
// Thread-safe: Check() may run on every worker thread at once.
class BasicAuth {
 public:
  static constexpr std::size_t kCacheEntries = 256;

  // "users" maps user names to bcrypt hashes (checked by the config
  // parser). kInvalidArgument when a hash is not one crypt_r can verify;
  // kIoError when no random key can be had.
  [[nodiscard]] static Status Create(
      const std::map<std::string, std::string>& users,
      std::unique_ptr<BasicAuth>* out);

  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // True when "authorization" (the header value, possibly empty) carries
  // the right password of a configured user.
  bool Check(std::string_view authorization) const;

  // True when the user and password match. Exposed for tests.
  bool Verify(const std::string& user, const std::string& password) const;

 private:
  using Digest = std::array<unsigned char, 32>;

  BasicAuth() = default;
  Digest CacheKey(const std::string& user, const std::string& password,
                  const std::string& hash) const;
  bool InCache(const Digest& key) const;
  void Remember(const Digest& key) const;

  std::map<std::string, std::string> users_;
  std::string dummy_hash_;
  std::array<unsigned char, 32> hmac_key_{};

  mutable std::mutex mu_;
  mutable std::vector<Digest> cache_;  // guarded by mu_; ring of verified
  mutable std::size_t next_slot_ = 0;  // guarded by mu_
};

// Standard base64 (RFC 4648, padded): "dXNlcjpwdw==" -> "user:pw". False
// on a length that is not a multiple of 4, a misplaced '=' or a character
// outside the alphabet. Pure; exposed for tests.
bool DecodeBase64(std::string_view in, std::string* out);

}  // namespace nsexp
