// HTTP basic authentication: bcrypt through libxcrypt, a keyed cache of
// verified credentials through OpenSSL's libcrypto.
#include "http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>

namespace nsexp {

namespace {

// The cost ("$2b$NN$") of a hash the config parser has already checked.
int BcryptCost(const std::string& hash) {
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

// crypt_r(3) into a heap buffer (struct crypt_data is about 32 KiB, too
// large for a worker thread's stack to hold casually). Empty on failure.
std::string Crypt(const std::string& password, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* result = crypt_r(password.c_str(), setting.c_str(), data.get());
  // libxcrypt returns a string starting with '*' (or NULL) on failure.
  if (result == nullptr || result[0] == '*') return "";
  return result;
}

}  // namespace

bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  unsigned int acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size() - pad; ++i) {
    const char c = in[i];
    unsigned int v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<unsigned int>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<unsigned int>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      v = static_cast<unsigned int>(c - '0' + 52);
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else {
      return false;
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return true;
}

Status BasicAuth::Create(const std::map<std::string, std::string>& users,
                         std::unique_ptr<BasicAuth>* out) {
  std::unique_ptr<BasicAuth> auth(new BasicAuth());
  auth->users_ = users;
  // The dummy hash takes the cost most users have (the higher on a tie),
  // so that an unknown user is as slow as a wrong password for them.
  std::map<int, int> costs;
  for (const auto& [user, hash] : users) {
    if (hash.size() != 60 || hash.compare(0, 2, "$2") != 0) {
      return Status::InvalidArgument("basic_auth_users." + user +
                                     ": not a bcrypt hash");
    }
    ++costs[BcryptCost(hash)];
  }
  int cost = 10;
  int most = 0;
  for (const auto& [c, n] : costs) {
    if (n >= most) {
      most = n;
      cost = c;
    }
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // Null random bytes: libxcrypt draws the salt from the OS itself.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0,
                       setting, sizeof(setting)) == nullptr) {
    return Status::IoError("crypt_gensalt_rn: cannot make a bcrypt salt");
  }
  auth->dummy_hash_ = setting;
  // A wrong answer here means the library cannot do bcrypt at all.
  if (Crypt("x", auth->dummy_hash_).empty()) {
    return Status::Unsupported("crypt_r does not support bcrypt");
  }
  if (RAND_bytes(auth->hmac_key_.data(),
                 static_cast<int>(auth->hmac_key_.size())) != 1) {
    return Status::IoError("RAND_bytes: no random key for the cache");
  }
  auth->cache_.reserve(kCacheEntries);
  *out = std::move(auth);
  return Status::Ok();
}

BasicAuth::Digest BasicAuth::CacheKey(const std::string& user,
                                      const std::string& password,
                                      const std::string& hash) const {
  // Length-prefixed fields, so that ("ab", "c") and ("a", "bc") differ.
  std::string message;
  for (const std::string* field : {&user, &password, &hash}) {
    const std::size_t n = field->size();
    for (int i = 0; i < 8; ++i) {
      message.push_back(static_cast<char>((n >> (8 * i)) & 0xFFu));
    }
    message += *field;
  }
  Digest digest{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key_.data(), static_cast<int>(hmac_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest.data(), &len);
  OPENSSL_cleanse(message.data(), message.size());
  return digest;
}

bool BasicAuth::InCache(const Digest& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Every entry is compared in constant time, and all of them are, so the
  // time taken says nothing about which entry (if any) matched.
  int found = 0;
  for (const Digest& entry : cache_) {
    found |= CRYPTO_memcmp(entry.data(), key.data(), key.size()) == 0;
  }
  return found != 0;
}

void BasicAuth::Remember(const Digest& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() < kCacheEntries) {
    cache_.push_back(key);
  } else {
    cache_[next_slot_] = key;
    next_slot_ = (next_slot_ + 1) % kCacheEntries;
  }
}

bool BasicAuth::Verify(const std::string& user,
                       const std::string& password) const {
  const auto it = users_.find(user);
  const bool known = it != users_.end();
  const std::string& hash = known ? it->second : dummy_hash_;
  // crypt_r takes a C string: a password with a NUL byte would be cut short.
  if (password.find('\0') != std::string::npos) {
    Crypt("", dummy_hash_);  // same cost as any other failure
    return false;
  }
  const Digest key = CacheKey(user, password, hash);
  if (known && InCache(key)) return true;
  const std::string computed = Crypt(password, hash);
  const bool ok = known && computed.size() == hash.size() &&
                  CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
  if (ok) Remember(key);
  return ok;
}

bool BasicAuth::Check(std::string_view authorization) const {
  // "Basic" (any case), blanks, then base64 of "user:password" (RFC 7617).
  // Input that names no user fails at once: it says nothing about users.
  constexpr std::string_view kScheme = "basic";
  if (authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        kScheme[i]) {
      return false;
    }
  }
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ' && rest.front() != '\t') return false;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) {
    rest.remove_suffix(1);
  }
  std::string decoded;
  if (!DecodeBase64(rest, &decoded)) return false;
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return false;
  }
  std::string password = decoded.substr(colon + 1);
  const bool ok = Verify(decoded.substr(0, colon), password);
  OPENSSL_cleanse(password.data(), password.size());
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return ok;
}

}  // namespace nsexp
