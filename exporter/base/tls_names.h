// The TLS names of exporter-toolkit's web configuration (Go's crypto/tls
// names) and what OpenSSL calls the same things.
#pragma once

#include <optional>
#include <string_view>

namespace nsexp {

// The OpenSSL name of a TLS 1.2 cipher suite given by its Go name
// (tls.CipherSuiteName, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" ->
// "ECDHE-RSA-AES128-GCM-SHA256"); nullopt for a name Go does not know or a
// suite OpenSSL 3 cannot offer. TLS 1.3 suites are not configurable, as in
// Go. Pure; thread-safe.
std::optional<std::string_view> OpenSslCipherName(std::string_view go_name);

// The OpenSSL group name of a Go tls.CurveID name ("CurveP256" -> "P-256",
// "X25519" -> "X25519"); nullopt for anything else. Pure; thread-safe.
std::optional<std::string_view> OpenSslGroupName(std::string_view go_name);

}  // namespace nsexp
