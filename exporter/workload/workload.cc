// Workload attribution from cgroup paths: a table of runtime naming rules.
#include "workload/workload.h"

#include <cstddef>

namespace nsexp {

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// A container id as docker, containerd, CRI-O and podman make them.
bool IsContainerHex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

// Undoes systemd's unit name escaping ("\x2d" for '-').
std::string UnescapeUnitName(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 3 < in.size() && in[i + 1] == 'x' &&
        IsLowerHex(in[i + 2]) && IsLowerHex(in[i + 3])) {
      auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
      out.push_back(
          static_cast<char>(nibble(in[i + 2]) * 16 + nibble(in[i + 3])));
      i += 3;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// A machine name as systemd-machined accepts it (a host name: letters,
// digits, '-', '_' and '.', at most 64 bytes). The unescaped unit name of a
// scope under machine.slice may hold anything, '/' and control bytes
// included, which no machine has.
bool IsMachineName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Workload Make(std::string_view runtime, std::string_view scheme,
              std::string_view id) {
  Workload w;
  w.container_runtime = std::string(runtime);
  w.container_id = std::string(scheme) + std::string(id);
  return w;
}

// The pod UID that one component names, in the systemd driver's slice form
// ("kubepods-burstable-pod<uid>.slice", "kubepods-pod<uid>.slice", also
// before the ':' of containerd's cgroupfs-in-systemd form) or the cgroupfs
// form ("pod<uid>").
std::optional<std::string> PodUidOf(std::string_view c) {
  const std::size_t colon = c.find(':');
  if (colon != std::string_view::npos) c = c.substr(0, colon);
  if (StartsWith(c, "kubepods") && EndsWith(c, ".slice")) {
    c.remove_suffix(6);
    const std::size_t pod = c.rfind("-pod");
    if (pod == std::string_view::npos) return std::nullopt;
    return NormalizePodUid(c.substr(pod + 4));
  }
  if (StartsWith(c, "pod")) return NormalizePodUid(c.substr(3));
  return std::nullopt;
}

// The container a systemd scope unit names ("docker-<id>.scope",
// "machine-<name>.scope" under machine.slice, ...); "s" ends in ".scope".
std::optional<Workload> ScopeContainer(std::string_view s,
                                       std::string_view parent) {
  s.remove_suffix(6);
  // Conmon monitors a container from beside it: not the container.
  if (StartsWith(s, "crio-conmon-") || StartsWith(s, "libpod-conmon-")) {
    return std::nullopt;
  }
  struct Rule {
    std::string_view prefix, runtime, scheme;
  };
  static constexpr Rule kScopes[] = {
      {"docker-", "docker", "docker://"},
      {"cri-containerd-", "containerd", "containerd://"},
      {"nerdctl-", "containerd", "containerd://"},
      {"crio-", "cri-o", "cri-o://"},
      {"libpod-", "podman", "podman://"},
  };
  for (const Rule& r : kScopes) {
    if (StartsWith(s, r.prefix) && IsContainerHex(s.substr(r.prefix.size()))) {
      return Make(r.runtime, r.scheme, s.substr(r.prefix.size()));
    }
  }
  if (parent == "machine.slice" && StartsWith(s, "machine-")) {
    const std::string name = UnescapeUnitName(s.substr(8));
    // libvirt puts virtual machines here too: not containers.
    if (!IsMachineName(name) || StartsWith(name, "qemu-")) {
      return std::nullopt;
    }
    return Make("systemd-nspawn", "systemd-nspawn://", name);
  }
  return std::nullopt;
}

// The container that component i of "c" names, or nullopt.
std::optional<Workload> ContainerAt(const std::vector<std::string_view>& c,
                                    std::size_t i, bool relative) {
  std::string_view s = c[i];
  const std::string_view parent = i > 0 ? c[i - 1] : std::string_view();
  // containerd's cgroupfs driver under systemd: "<slice>:<prefix>:<id>".
  const std::size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view rest = s.substr(colon + 1);
    const std::size_t colon2 = rest.find(':');
    if (colon2 == std::string_view::npos) return std::nullopt;
    const std::string_view prefix = rest.substr(0, colon2);
    const std::string_view id = rest.substr(colon2 + 1);
    if (!IsContainerHex(id)) return std::nullopt;
    if (prefix == "cri-containerd")
      return Make("containerd", "containerd://", id);
    if (prefix == "crio") return Make("cri-o", "cri-o://", id);
    if (prefix == "docker") return Make("docker", "docker://", id);
    return std::nullopt;
  }
  if (EndsWith(s, ".scope")) return ScopeContainer(s, parent);
  if (StartsWith(s, "libpod-") && IsContainerHex(s.substr(7))) {
    return Make("podman", "podman://", s.substr(7));
  }
  if (StartsWith(s, "crio-") && IsContainerHex(s.substr(5))) {
    return Make("cri-o", "cri-o://", s.substr(5));
  }
  if (StartsWith(s, "lxc.payload.") && s.size() > 12) {
    return Make("lxc", "lxc://", s.substr(12));
  }
  if ((parent == "lxc" || parent == "lxc.payload") && !s.empty()) {
    return Make("lxc", "lxc://", s);
  }
  if (!IsContainerHex(s)) return std::nullopt;
  if (parent == "docker") return Make("docker", "docker://", s);
  if (PodUidOf(parent)) return Make("", "", s);
  // Plain containerd: /<namespace>/<id>, only when the path is known to
  // start at the root.
  if (i == 1 && c.size() == 2 && !relative) {
    return Make("containerd", "containerd://", s);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> NormalizePodUid(std::string_view uid) {
  static constexpr std::size_t kGroups[] = {8, 4, 4, 4, 12};
  std::string out;
  out.reserve(36);
  // The first separator decides: the kubelet writes all four alike, so a
  // mixed UID is none (and would not be found again in its path).
  const char sep = uid.size() > 8 ? uid[8] : '\0';
  if (sep != '_' && sep != '-') return std::nullopt;
  std::size_t pos = 0;
  for (std::size_t g = 0; g < 5; ++g) {
    if (g > 0) {
      if (pos >= uid.size() || uid[pos] != sep) return std::nullopt;
      out.push_back('-');
      ++pos;
    }
    for (std::size_t k = 0; k < kGroups[g]; ++k, ++pos) {
      if (pos >= uid.size() || !IsLowerHex(uid[pos])) return std::nullopt;
      out.push_back(uid[pos]);
    }
  }
  if (pos != uid.size()) return std::nullopt;
  return out;
}

std::optional<Workload> ClassifyCgroupPath(std::string_view path) {
  std::vector<std::string_view> c;
  bool relative = false;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view()
                                           : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      // Only leading: a path from a cgroup namespace climbs first.
      if (!c.empty()) return std::nullopt;
      relative = true;
      continue;
    }
    c.push_back(part);
  }
  for (std::size_t i = c.size(); i-- > 0;) {
    std::optional<Workload> w = ContainerAt(c, i, relative);
    if (!w) continue;
    for (std::size_t j = i + 1; j-- > 0;) {
      if (std::optional<std::string> uid = PodUidOf(c[j])) {
        w->pod_uid = std::move(*uid);
        break;
      }
    }
    return w;
  }
  return std::nullopt;
}

std::optional<Workload> ClassifyCgroupPaths(
    const std::vector<std::string_view>& paths) {
  for (std::string_view p : paths) {
    if (std::optional<Workload> w = ClassifyCgroupPath(p)) return w;
  }
  return std::nullopt;
}

}  // namespace nsexp
