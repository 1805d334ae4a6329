// The /tree HTML page: the hierarchy as nested <details>, a type selector
// and a filter, with its style and script inline under a nonce.
#include "http/tree_page.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <optional>
#include <vector>

#include "base/utf8.h"
#include "proc/proc_fs.h"
#include "workload/workload.h"

namespace nsexp {

namespace {

// Lower-cases ASCII only: the filter compares the same way in the script
// (which lower-cases the query), and the other bytes of UTF-8 commands
// stay as they are.
std::string AsciiLower(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

constexpr const char* kStyle = R"CSS(
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#59636e;--line:#d0d7de;
--accent:#0969da;--warn:#9a6700;--bg:#fff;--chip:#eef1f4}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--accent:#4493f8;--warn:#d29922;--bg:#0d1117;--chip:#21262d}}
body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);
margin:0 1.5rem 2rem}
header{position:sticky;top:0;background:var(--bg);padding:.6rem 0;
border-bottom:1px solid var(--line);z-index:1}
h1{font-size:1.25rem;margin:.2rem 0 .5rem}
form{display:flex;gap:1rem;flex-wrap:wrap;align-items:center}
input[type=search]{width:22rem;max-width:90vw;padding:.25rem .4rem}
.summary{color:var(--muted);margin:.4rem 0 0}
main{margin-top:.8rem}
details.ns{margin:.15rem 0 .15rem 0;padding-left:.9rem;
border-left:1px solid var(--line)}
details.ns>summary{cursor:pointer;padding:.1rem 0}
.label{font:600 13px ui-monospace,monospace}
.chip{display:inline-block;background:var(--chip);border-radius:.6rem;
padding:0 .45rem;margin-left:.35rem;font-size:12px;color:var(--muted)}
.chip.ct{color:var(--accent)}
.empty>summary .label{color:var(--warn)}
.chip.none{color:var(--warn);border:1px dashed var(--warn)}
.group>summary .label{font-weight:400;color:var(--muted)}
ul.members{list-style:none;margin:.1rem 0 .3rem;padding-left:1.2rem}
ul.members li{font:12px/1.5 ui-monospace,monospace;white-space:pre-wrap}
ul.holders{margin:.1rem 0 .2rem;padding-left:1.2rem;color:var(--muted);
font-size:12px}
.chip.holder{border:1px solid var(--line)}
.nstgid{color:var(--accent)}
.exited{color:var(--warn)}
details.more>summary{color:var(--muted);cursor:pointer;margin-left:1.2rem}
footer{color:var(--muted);margin-top:1.5rem;font-size:12px}
)CSS";

// Narrows the tree to the namespaces whose data-search holds the filter
// text, keeping their ancestors and opening the way to them. Children are
// visited before parents (reverse document order), so a parent knows
// whether a descendant stayed visible.
constexpr const char* kScript = R"JS(
(function () {
  'use strict';
  var box = document.getElementById('filter');
  var count = document.getElementById('shown');
  var all = Array.prototype.slice.call(document.querySelectorAll('details.ns'));
  var shown = all.filter(function (d) { return !d.classList.contains('group'); });
  function apply() {
    var q = box.value.trim().toLowerCase();
    var visible = 0;
    for (var i = all.length - 1; i >= 0; i--) {
      var d = all[i];
      var own = q === '' || (d.dataset.search || '').indexOf(q) >= 0;
      var below = d.querySelector(':scope > .sub > details.ns:not([hidden])');
      var keep = own || below !== null;
      d.hidden = !keep;
      if (q === '') {
        d.open = d.dataset.open === '1';
      } else if (keep) {
        d.open = true;
      }
      var more = d.querySelector(':scope > details.more');
      if (more) more.open = q !== '' && own;
      if (keep && !d.classList.contains('group')) visible++;
    }
    count.textContent = visible + ' of ' + shown.length + ' shown';
  }
  // ?filter=TEXT: the page is the same for every filter (and cached), so
  // the script, not the server, puts the text in the box.
  var wanted = new URLSearchParams(location.search).get('filter');
  if (wanted !== null && box.value === '') box.defaultValue = wanted;
  box.addEventListener('input', apply);
  document.getElementById('type').addEventListener('change', function () {
    this.form.submit();
  });
  apply();
})();
)JS";

class PageWriter {
 public:
  PageWriter(const TreeModel& model, const TreePageOptions& options)
      : model_(model), options_(options) {}

  std::string Write() {
    const std::string type(NamespaceTypeName(model_.type));
    std::string body;
    std::swap(body, out_);
    for (const TreeNode& r : model_.roots) Node(r, 0, nullptr);
    if (!model_.unowned.empty()) {
      out_ +=
          "<details class=\"ns group\" open data-open=\"1\" data-type=\"\" "
          "data-inode=\"\" data-parent=\"\" data-search=\"\"><summary>"
          "<span class=\"label\">owner not visible</span></summary>"
          "<div class=\"sub\">";
      for (const TreeNode& n : model_.unowned) Node(n, 1, nullptr);
      out_ += "</div></details>\n";
    }
    std::swap(body, out_);
    out_ =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
        "<title>" +
        type + " namespaces - Linux namespace exporter</title><style nonce=\"" +
        options_.nonce + "\">" + kStyle +
        "</style></head>\n<body>\n<header><h1>" + type +
        " namespaces</h1>\n<form method=\"get\" action=\"/tree\">"
        "<label>Type <select name=\"type\" id=\"type\">";
    for (NamespaceType t : kAllNamespaceTypes) {
      const std::string name(NamespaceTypeName(t));
      out_ += "<option value=\"" + name + "\"" +
              (t == model_.type ? " selected" : "") + ">" + name + "</option>";
    }
    out_ +=
        "</select></label><input type=\"hidden\" name=\"format\" "
        "value=\"html\"><label>Filter <input type=\"search\" id=\"filter\" "
        "name=\"filter\" placeholder=\"command, container or pod\" "
        "autocomplete=\"off\" value=\"" +
        HtmlEscape(options_.filter) +
        "\"></label><button type=\"submit\">Show</button>"
        "<span id=\"shown\" class=\"summary\"></span></form>\n"
        "<p class=\"summary\">" +
        CountOf(namespaces_, type + " namespace", type + " namespaces") + ", " +
        CountOf(processes_, "member process", "member processes");
    if (!IsHierarchical(model_.type)) {
      out_ += ", under the user namespaces that own them";
    }
    if (model_.permission_denied > 0) {
      out_ += "; " + CountOf(model_.permission_denied, "process", "processes") +
              " could not be inspected";
    }
    out_ += ". <a href=\"/tree?type=" + type +
            "&amp;format=text\">text</a> <a href=\"/tree?type=" + type +
            "&amp;format=json\">JSON</a> <a href=\"/\">home</a></p>"
            "</header>\n<main id=\"tree\">\n" +
            body + "</main>\n<footer>linux_namespace_exporter " +
            HtmlEscape(options_.version) + "</footer>\n<script nonce=\"" +
            options_.nonce + "\">" + kScript + "</script>\n</body></html>\n";
    return std::move(out_);
  }

 private:
  void Chip(const std::string& cls, const std::string& text) {
    out_ += "<span class=\"chip" + (cls.empty() ? "" : " " + cls) + "\">" +
            text + "</span>";
  }

  // "podman://0123456789abcdef..." -> "0123456789ab": the id as `podman
  // ps` shows it; the full id is in the details list.
  static std::string ShortId(const std::string& id) {
    const std::size_t scheme = id.find("://");
    const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    return id.substr(start, 12);
  }

  // A holder kind in words, singular.
  static std::string HolderNoun(HolderKind kind) {
    switch (kind) {
      case HolderKind::kThread:
        return "thread";
      case HolderKind::kFd:
        return "open fd";
      case HolderKind::kSocket:
        return "socket";
      case HolderKind::kBindMount:
        return "bind mount";
      case HolderKind::kForChildren:
        return "for_children link";
    }
    return std::string(HolderKindName(kind));
  }

  // How it is held and by which containers, in full.
  void Details(const TreeNode& n) {
    if (n.held_by.empty() && n.bind_mounts.empty() && n.containers.empty()) {
      return;
    }
    out_ += "<ul class=\"holders\">";
    // held_by names one holder; a bind mount is listed in full below.
    const bool bind_mount_said =
        !n.bind_mounts.empty() && n.held_by.rfind("bind mount ", 0) == 0;
    if (!n.held_by.empty() && n.ns->processes == 0 && !bind_mount_said) {
      out_ += "<li>held by " + HtmlEscape(n.held_by) + "</li>";
    }
    for (const TreeBindMount& b : n.bind_mounts) {
      out_ += "<li>bind mount <code>" + HtmlEscape(b.path) + "</code>";
      if (!b.name.empty()) out_ += " (ip netns " + HtmlEscape(b.name) + ")";
      out_ += " in mnt:[" + std::to_string(b.mount_ns_inode) + "]</li>";
    }
    for (const TreeContainer& c : n.containers) {
      out_ += "<li class=\"container\">container <code>" + HtmlEscape(c.id) +
              "</code>";
      if (!c.runtime.empty()) out_ += " runtime " + HtmlEscape(c.runtime);
      if (!c.pod_uid.empty()) {
        out_ += " pod <code>" + HtmlEscape(c.pod_uid) + "</code>";
      }
      out_ += ", " + CountOf(c.processes, "process", "processes") + "</li>";
    }
    out_ += "</ul>";
  }

  void Members(const TreeNode& n) {
    if (n.members.empty()) return;
    // A long member list (the initial namespaces hold most of the host)
    // folds on its own so that the child namespaces stay in view.
    const bool fold = n.members.size() > 12;
    if (fold) {
      out_ += "<details class=\"more\"><summary>" +
              CountOf(n.members.size(), "member", "members") + "</summary>";
    }
    out_ += "<ul class=\"members\">";
    for (const TreeMember& m : n.members) {
      out_ += "<li><span class=\"nstgid\">[";
      for (std::size_t i = 0; i < m.nstgid.size(); ++i) {
        if (i) out_.push_back(' ');
        out_ += std::to_string(m.nstgid[i]);
      }
      out_ += "]</span>  ";
      out_ += m.exited
                  ? std::string("<span class=\"exited\">(exited)</span>")
                  : "<span class=\"cmd\">" + HtmlEscape(m.command) + "</span>";
      out_ += "</li>";
    }
    out_ += "</ul>";
    if (fold) out_ += "</details>";
  }

  void Node(const TreeNode& n, std::uint32_t level, const TreeNode* parent) {
    const NamespaceInfo& ns = *n.ns;
    const std::string label = std::string(NamespaceTypeName(ns.type)) + ":[" +
                              std::to_string(ns.inode) + "]";
    std::string search = label;
    for (const TreeMember& m : n.members) search += "\n" + m.command;
    for (const TreeContainer& c : n.containers) {
      search += "\n" + c.id + "\n" + c.runtime + "\n" + c.pod_uid;
    }
    for (const TreeBindMount& b : n.bind_mounts) search += "\n" + b.path;
    if (!n.grouping) {
      ++namespaces_;
      processes_ += ns.processes;
    }
    const bool open = level < options_.open_depth;
    std::string cls = "ns";
    if (n.grouping) cls += " group";
    if (!n.grouping && ns.processes == 0) cls += " empty";
    out_ += "<details class=\"" + cls + "\"" + (open ? " open" : "") +
            " data-open=\"" + (open ? "1" : "0") + "\" data-type=\"" +
            std::string(NamespaceTypeName(ns.type)) + "\" data-inode=\"" +
            std::to_string(ns.inode) + "\" data-parent=\"" +
            (parent ? std::to_string(parent->ns->inode) : "") +
            "\" data-search=\"" + HtmlEscape(AsciiLower(search)) +
            "\"><summary><span class=\"label\">" + label + "</span>";
    if (ns.ns_id) Chip("", "ns_id " + std::to_string(*ns.ns_id));
    if (IsHierarchical(ns.type)) Chip("", "depth " + std::to_string(ns.depth));
    if (ns.owner_uid) Chip("", "owner uid " + std::to_string(*ns.owner_uid));
    if (n.grouping) {
      const std::string noun =
          std::string(NamespaceTypeName(model_.type)) + " namespace";
      Chip("", "owns " + CountOf(n.owned.size(), noun, noun + "s"));
    } else if (ns.processes == 0) {
      Chip("none", "no processes");
    } else {
      Chip("", CountOf(ns.processes, "process", "processes"));
    }
    for (HolderKind k : kAllHolderKinds) {
      const std::uint32_t count = ns.holders[static_cast<std::size_t>(k)];
      if (count == 0) continue;
      const std::string kind = HolderNoun(k);
      Chip("holder", "held by " + CountOf(count, kind, kind + "s"));
    }
    for (const TreeContainer& c : n.containers) {
      Chip("ct",
           HtmlEscape(c.runtime.empty() ? "container" : c.runtime) + " " +
               HtmlEscape(ShortId(c.id)) +
               (c.pod_uid.empty() ? "" : " pod " + HtmlEscape(c.pod_uid)));
    }
    out_ += "</summary>";
    Details(n);
    Members(n);
    if (!n.owned.empty() || !n.children.empty()) {
      out_ += "<div class=\"sub\">";
      for (const TreeNode& o : n.owned) Node(o, level + 1, &n);
      for (const TreeNode& c : n.children) Node(c, level + 1, &n);
      out_ += "</div>";
    }
    out_ += "</details>\n";
  }

  const TreeModel& model_;
  const TreePageOptions& options_;
  std::string out_;
  std::uint64_t namespaces_ = 0;
  std::uint64_t processes_ = 0;
};

}  // namespace

CgroupClassifier ContainerClassifier() {
  return [](const std::string& text) -> std::optional<TreeContainer> {
    const std::vector<CgroupEntry> entries = ParseCgroupFile(text);
    const std::optional<Workload> w =
        ClassifyCgroupPaths(CgroupPathsByPreference(entries));
    if (!w) return std::nullopt;
    constexpr std::size_t kMax = 256;
    TreeContainer c;
    c.runtime = SanitizeUtf8(w->container_runtime, kMax);
    c.id = SanitizeUtf8(w->container_id, kMax);
    c.pod_uid = SanitizeUtf8(w->pod_uid, kMax);
    return c;
  };
}

std::string HtmlEscape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string RenderTreePage(const TreeModel& model,
                           const TreePageOptions& options) {
  return PageWriter(model, options).Write();
}

std::string TreePageContentSecurityPolicy(const std::string& nonce) {
  return "default-src 'none'; style-src 'nonce-" + nonce +
         "'; script-src 'nonce-" + nonce +
         "'; img-src data:; form-action 'self'; base-uri 'none'; "
         "frame-ancestors 'none'";
}

Status TreePageNonce(std::string* out) {
  std::array<unsigned char, 16> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return Status::IoError("RAND_bytes: no random bytes for a nonce");
  }
  // 4 output characters per 3 input bytes, plus the terminating NUL.
  std::array<unsigned char, 4 * ((16 + 2) / 3) + 1> b64{};
  const int n =
      EVP_EncodeBlock(b64.data(), raw.data(), static_cast<int>(raw.size()));
  out->assign(reinterpret_cast<const char*>(b64.data()),
              static_cast<std::size_t>(n));
  return Status::Ok();
}

}  // namespace nsexp
