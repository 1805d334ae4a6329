// Fuzz target: ParseCgroupFile, the reader of /proc/PID/cgroup (whose paths
// anyone who can make a cgroup, or name a container, chooses), and the
// workload classifier of its paths (ClassifyCgroupPath, NormalizePodUid).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "proc/proc_fs.h"
#include "workload/workload.h"

namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool IsContainerHex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

// A pod UID as kube_pod_info{uid} has it: 8-4-4-4-12 lowercase hex, dashes.
bool IsPodUid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsLowerHex(s[i])) return false;
  }
  return true;
}

// The scheme of each runtime's container ids; an empty runtime (the
// kubelet's cgroupfs driver) has none.
std::optional<std::string_view> SchemeOf(std::string_view runtime) {
  static constexpr std::string_view kRuntimes[][2] = {
      {"", ""},
      {"docker", "docker://"},
      {"containerd", "containerd://"},
      {"cri-o", "cri-o://"},
      {"podman", "podman://"},
      {"systemd-nspawn", "systemd-nspawn://"},
      {"lxc", "lxc://"},
  };
  for (const auto& r : kRuntimes) {
    if (r[0] == runtime) return r[1];
  }
  return std::nullopt;
}

void CheckWorkload(std::string_view path, const nsexp::Workload& w) {
  const auto scheme = SchemeOf(w.container_runtime);
  FUZZ_CHECK(scheme.has_value());
  const std::string_view id_full = w.container_id;
  FUZZ_CHECK(id_full.substr(0, scheme->size()) == *scheme);
  const std::string_view id = id_full.substr(scheme->size());
  // Never longer than the input, and never empty.
  FUZZ_CHECK(!id.empty() && id.size() <= path.size());
  if (w.container_runtime == "systemd-nspawn") {
    // The unescaped machine name; a '/' cannot come from one component.
    FUZZ_CHECK(id.find('/') == std::string_view::npos);
  } else {
    // A container id is the runtime's 64 hex digits, found in the path.
    if (w.container_runtime != "lxc") FUZZ_CHECK(IsContainerHex(id));
    FUZZ_CHECK(id.find('/') == std::string_view::npos);
    FUZZ_CHECK(path.find(id) != std::string_view::npos);
  }
  // The kubelet's cgroupfs layout is the only one without a runtime, and
  // it is always inside a pod.
  if (w.container_runtime.empty()) FUZZ_CHECK(!w.pod_uid.empty());
  if (!w.pod_uid.empty()) {
    FUZZ_CHECK(IsPodUid(w.pod_uid));
    std::string underscores = w.pod_uid;
    for (char& c : underscores) {
      if (c == '-') c = '_';
    }
    FUZZ_CHECK(path.find(w.pod_uid) != std::string_view::npos ||
               path.find(underscores) != std::string_view::npos);
  }
}

void CheckPodUid(std::string_view in) {
  const auto uid = nsexp::NormalizePodUid(in);
  if (!uid) return;
  FUZZ_CHECK(IsPodUid(*uid) && in.size() == uid->size());
  // Either the UID itself or its systemd form, all '_': never a mix.
  const bool underscores = in[8] == '_';
  for (std::size_t i = 0; i < in.size(); ++i) {
    FUZZ_CHECK(in[i] == (*uid)[i] ||
               (underscores && in[i] == '_' && (*uid)[i] == '-'));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<nsexp::CgroupEntry> entries = nsexp::ParseCgroupFile(in);
  for (const nsexp::CgroupEntry& e : entries) {
    FUZZ_CHECK(!e.path.empty() && e.path.front() == '/');
    FUZZ_CHECK(e.path.size() + e.controllers.size() + 2 <= size);
    FUZZ_CHECK(e.path.find('\n') == std::string::npos);
    FUZZ_CHECK(e.controllers.find_first_of(":\n") == std::string::npos);
  }
  const std::vector<std::string_view> paths =
      nsexp::CgroupPathsByPreference(entries);
  FUZZ_CHECK(paths.size() == entries.size());
  std::optional<nsexp::Workload> first;
  for (std::string_view p : paths) {
    const auto w = nsexp::ClassifyCgroupPath(p);
    if (w) CheckWorkload(p, *w);
    if (w && !first) first = w;
  }
  // The first path that names a container decides.
  FUZZ_CHECK(nsexp::ClassifyCgroupPaths(paths) == first);
  // The whole input as one path, and as a pod UID.
  if (const auto w = nsexp::ClassifyCgroupPath(in)) CheckWorkload(in, *w);
  CheckPodUid(in);
  return 0;
}
