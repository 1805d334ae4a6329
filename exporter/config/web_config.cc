// The exporter-toolkit web configuration file, parsed with yaml-cpp.
#include "config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "base/tls_names.h"
#include "config/yaml_support.h"

namespace nsexp {

namespace {

// Every yaml-cpp call below may throw (YAML::Exception and its subclasses,
// std::bad_alloc); ParseYamlDocument() catches them, and the YamlError that
// the checks throw with the position of the node.
class Parser {
 public:
  explicit Parser(std::string name) : name_(std::move(name)) {}

  [[noreturn]] static void Fail(const YAML::Mark& mark,
                                const std::string& what) {
    YamlFail(mark, what);
  }

  std::string Where(const YAML::Mark& mark) const {
    return YamlPosition(name_, mark);
  }

  static std::string String(const YAML::Node& node, const std::string& where) {
    return YamlString(node, where);
  }

  void BasicAuthUsers(const YAML::Node& node, WebConfig* out) {
    ForEachYamlKey(
        node, "basic_auth_users", {},
        [&](const std::string& user, const YAML::Node& key,
            const YAML::Node& value) {
          const std::string where = "basic_auth_users." + user;
          if (user.empty()) Fail(key.Mark(), where + ": empty user");
          if (user.find(':') != std::string::npos) {
            // Basic authentication splits "user:password" at the
            // first colon (RFC 7617), so such a user could never log
            // in.
            Fail(key.Mark(), where + ": a user name cannot contain ':'");
          }
          const std::string hash = String(value, where);
          if (!IsBcryptHash(hash)) {
            Fail(value.IsNull() ? key.Mark() : value.Mark(),
                 where +
                     ": not a bcrypt hash (want $2a$, $2b$ or $2y$, "
                     "a two-digit cost 04-31, '$', then 53 characters "
                     "of salt and hash, as htpasswd -B makes)");
          }
          out->basic_auth_users[user] = hash;
        });
  }

  void Tls(const YAML::Node& node, WebConfig* out) {
    out->has_tls = true;
    ForEachYamlKey(
        node, "tls_server_config",
        {"cert_file", "key_file", "client_auth_type", "client_ca_file",
         "min_version", "max_version", "cipher_suites", "curve_preferences",
         "prefer_server_cipher_suites"},
        [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
          TlsKey(k, v, &out->tls);
        });
    CheckTls(node, out->tls);
  }

  // One key of tls_server_config, checked alone.
  void TlsKey(const std::string& k, const YAML::Node& v, TlsServerConfig* tls) {
    const std::string where = "tls_server_config." + k;
    if (k == "cert_file") tls->cert_file = String(v, where);
    if (k == "key_file") tls->key_file = String(v, where);
    if (k == "client_ca_file") tls->client_ca_file = String(v, where);
    if (k == "client_auth_type") {
      tls->client_auth_type = OneOf(
          v, where,
          {"", "NoClientCert", "RequestClientCert", "RequireAnyClientCert",
           "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"},
          "NoClientCert, RequestClientCert, RequireAnyClientCert, "
          "VerifyClientCertIfGiven or RequireAndVerifyClientCert");
    }
    if (k == "min_version" || k == "max_version") {
      (k == "min_version" ? tls->min_version : tls->max_version) =
          OneOf(v, where, {"", "TLS10", "TLS11", "TLS12", "TLS13"},
                "TLS10, TLS11, TLS12 or TLS13");
    }
    if (k == "cipher_suites") {
      tls->cipher_suites = Names(
          v, where,
          [](const std::string& n) { return OpenSslCipherName(n).has_value(); },
          "a TLS 1.2 cipher suite as Go names it, e.g. "
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }
    if (k == "curve_preferences") {
      tls->curve_preferences = Names(
          v, where,
          [](const std::string& n) { return OpenSslGroupName(n).has_value(); },
          "CurveP256, CurveP384, CurveP521 or X25519");
    }
    if (k == "prefer_server_cipher_suites") {
      tls->prefer_server_cipher_suites = YamlBool(v, where);
    }
  }

  // What tls_server_config's keys must be together.
  static void CheckTls(const YAML::Node& node, const TlsServerConfig& tls) {
    if (tls.cert_file.empty()) {
      Fail(node.Mark(), "tls_server_config: missing cert_file");
    }
    if (tls.key_file.empty()) {
      Fail(node.Mark(), "tls_server_config: missing key_file");
    }
    if (!tls.client_ca_file.empty() &&
        (tls.client_auth_type.empty() ||
         tls.client_auth_type == "NoClientCert")) {
      // As exporter-toolkit: a CA that would never be asked for is a
      // mistake, not a policy.
      Fail(node.Mark(),
           "tls_server_config: client_ca_file is set but client_auth_type "
           "is NoClientCert (want VerifyClientCertIfGiven or "
           "RequireAndVerifyClientCert)");
    }
    if (!tls.min_version.empty() && !tls.max_version.empty() &&
        tls.min_version > tls.max_version) {
      Fail(node.Mark(), "tls_server_config: min_version " + tls.min_version +
                            " is above max_version " + tls.max_version);
    }
  }

  // A string that must be one of "allowed"; its position otherwise.
  static std::string OneOf(const YAML::Node& v, const std::string& where,
                           const std::set<std::string>& allowed,
                           const std::string& want) {
    std::string value = String(v, where);
    if (allowed.count(value) == 0) {
      Fail(v.Mark(), where + ": found \"" + value + "\", want " + want);
    }
    return value;
  }

  // A list of names each of which "known" accepts; the position of the
  // first unknown one otherwise.
  std::vector<std::string> Names(
      const YAML::Node& node, const std::string& where,
      const std::function<bool(const std::string&)>& known,
      const std::string& want) {
    std::vector<std::string> out = YamlStringList(node, where);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (!known(out[i])) {
        Fail(node[i].Mark(),
             where + ": found \"" + out[i] + "\", want " + want);
      }
    }
    return out;
  }

  void Http(const YAML::Node& node, WebConfig* out) {
    ForEachYamlKey(
        node, "http_server_config", {"headers", "http2"},
        [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
          if (k == "http2") {
            out->http.http2 = YamlBool(v, "http_server_config.http2");
            return;
          }
          Headers(v, out);
        });
  }

  void Headers(const YAML::Node& node, WebConfig* out) {
    // exporter-toolkit's list: these headers only, some with fixed values.
    static const std::map<std::string, std::vector<std::string>> kAllowed = {
        {"Content-Security-Policy", {}},
        {"Strict-Transport-Security", {}},
        {"X-Content-Type-Options", {"nosniff"}},
        {"X-Frame-Options", {"deny", "sameorigin"}},
        {"X-XSS-Protection", {}},
    };
    ForEachYamlKey(
        node, "http_server_config.headers", {},
        [&](const std::string& k, const YAML::Node& key, const YAML::Node& v) {
          const std::string where = "http_server_config.headers." + k;
          const auto it = kAllowed.find(k);
          if (it == kAllowed.end()) {
            Fail(key.Mark(),
                 where +
                     ": this header cannot be configured (want "
                     "Content-Security-Policy, Strict-Transport-Security, "
                     "X-Content-Type-Options, X-Frame-Options or "
                     "X-XSS-Protection)");
          }
          const std::string value = String(v, where);
          for (char c : value) {
            // A header value must not end the header line early.
            if (c == '\r' || c == '\n' || c == '\0') {
              Fail(v.Mark(), where + ": control character in the value");
            }
          }
          if (!it->second.empty()) {
            bool ok = false;
            std::string want;
            for (const auto& allowed : it->second) {
              ok = ok || allowed == value;
              want += (want.empty() ? "\"" : " or \"") + allowed + "\"";
            }
            if (!ok) {
              Fail(v.Mark(), where + ": found \"" + value + "\", want " + want);
            }
          }
          out->http.headers[k] = value;
        });
  }

  void Document(const YAML::Node& root, WebConfig* out) {
    ForEachYamlKey(
        root, "top level",
        {"basic_auth_users", "tls_server_config", "http_server_config"},
        [&](const std::string& k, const YAML::Node& key, const YAML::Node& v) {
          if (k == "basic_auth_users") BasicAuthUsers(v, out);
          if (k == "tls_server_config") {
            out->tls_location = Where(key.Mark());
            Tls(v, out);
          }
          if (k == "http_server_config") Http(v, out);
        });
  }

  // "$2b$10$" + 22 characters of salt + 31 of hash, in bcrypt's base64
  // alphabet. The cost is checked here so that a typo fails at start-up,
  // not on the first scrape.
  static bool IsBcryptHash(const std::string& h) {
    if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' ||
        h[6] != '$') {
      return false;
    }
    if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
    if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
    const int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31) return false;
    for (std::size_t i = 7; i < h.size(); ++i) {
      const char c = h[i];
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '/';
      if (!ok) return false;
    }
    return true;
  }

 private:
  std::string name_;
};

}  // namespace

Status ParseWebConfig(const std::string& text, const std::string& name,
                      WebConfig* out) {
  Parser parser(name);
  WebConfig config;
  Status s = ParseYamlDocument(text, name, [&](const YAML::Node& root) {
    parser.Document(root, &config);
  });
  if (!s.ok()) return s;
  *out = std::move(config);
  return Status::Ok();
}

Status CheckWebConfigSupported(const WebConfig&, const std::string&) {
  // Everything ParseWebConfig() accepts is served, tls_server_config
  // included; what is not supported (inline cert/key, client_allowed_sans)
  // is an unknown key there, refused with its position.
  return Status::Ok();
}

Status LoadWebConfigFile(const std::string& path, WebConfig* out) {
  std::string text;
  Status s = ReadYamlFile("--web.config.file", path, &text);
  if (!s.ok()) return s;
  WebConfig config;
  s = ParseWebConfig(text, path, &config);
  if (!s.ok()) return s;
  s = CheckWebConfigSupported(config, path);
  if (!s.ok()) return s;
  // As exporter-toolkit: relative file names are relative to the directory
  // of the web configuration file, not to the working directory.
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  for (std::string* file : {&config.tls.cert_file, &config.tls.key_file,
                            &config.tls.client_ca_file}) {
    if (!file->empty() && (*file)[0] != '/') *file = (dir / *file).string();
  }
  *out = std::move(config);
  return Status::Ok();
}

}  // namespace nsexp
