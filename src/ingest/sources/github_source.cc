#include "ingest/sources/github_source.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/ids.h"
#include "core/json.h"
#include "ingest/sources/form_urlencoded.h"
#include "ingest/sources/json_fields.h"
#include "ingest/sources/product_mapping.h"

namespace tally::ingest {
namespace {

namespace json = boost::json;
using json_fields::Field;
using json_fields::Get;
using json_fields::Int;
using json_fields::Str;

constexpr std::string_view kPrefix = "sha256=";

Conversion Ignored(Conversion c, std::string reason) {
  c.kind = Conversion::Kind::kIgnored;
  c.reason = std::move(reason);
  return c;
}

std::string Header(const SourceRequest& request, const char* name) {
  auto it = request.headers->find(name);
  return it == request.headers->end() ? std::string() : it->second;
}

// A time field: RFC 3339 text, or epoch seconds (push's repository.pushed_at).
std::optional<core::Timestamp> TimeField(const json::value& obj, std::string_view key) {
  const json::value* v = Get(obj, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) {
    auto t = core::ParseRfc3339(std::string_view(v->as_string()));
    if (t) return *t;
    return std::nullopt;
  }
  if (auto n = Int(obj, key)) {
    auto t = core::FromEpochInteger(*n);
    if (t) return *t;
  }
  return std::nullopt;
}

}  // namespace

bool GitHubSignatureMatches(std::string_view secret, std::string_view body, std::string_view header) {
  if (secret.empty() || header.size() != kPrefix.size() + 64 || !header.starts_with(kPrefix)) {
    return false;
  }
  // Byte comparison, as GitHub's own libraries do: GitHub sends lowercase hex.
  return core::ConstantTimeEquals(core::HmacSha256Hex(secret, body), header.substr(kPrefix.size()));
}

GitHubSource::GitHubSource(std::vector<std::string> webhook_secrets)
    : secrets_(std::move(webhook_secrets)) {
  std::erase_if(secrets_, [](const std::string& s) { return s.empty(); });
}

core::Status GitHubSource::Verify(const SourceRequest& request, core::Timestamp) const {
  if (secrets_.empty()) {
    return std::unexpected(core::Error::Unavailable(
        "github webhooks are not configured: set [github] webhook_secrets or "
        "TALLY_GITHUB_WEBHOOK_SECRETS"));
  }
  std::string signature = Header(request, "x-hub-signature-256");
  if (signature.empty()) {
    return std::unexpected(core::Error::Unauthenticated(
        "missing X-Hub-Signature-256 header (set a secret on the GitHub webhook)"));
  }
  if (!signature.starts_with(kPrefix)) {
    return std::unexpected(core::Error::Unauthenticated(
        "X-Hub-Signature-256 must be \"sha256=\" followed by the hex HMAC of the body"));
  }
  bool any = false;
  // Every secret is tried (no early exit), so timing does not tell which matched.
  for (const auto& secret : secrets_) any |= GitHubSignatureMatches(secret, request.body, signature);
  if (!any) {
    return std::unexpected(core::Error::Unauthenticated(
        "X-Hub-Signature-256 does not match the body with any configured webhook secret (wrong "
        "secret, or the body was changed after signing)"));
  }
  return core::OkStatus();
}

core::Result<std::string> GitHubSource::Payload(const SourceRequest& request) const {
  std::string event = Header(request, "x-github-event");
  std::string delivery = Header(request, "x-github-delivery");
  if (event.empty()) {
    return std::unexpected(core::Error::InvalidArgument("missing X-GitHub-Event header"));
  }
  // Content type "application/x-www-form-urlencoded" sends the JSON as the
  // form field `payload`; the signature (checked by Verify) covers the raw
  // form body, so decoding comes only now.
  std::string content_type = Header(request, "content-type");
  std::string_view text = request.body;
  std::string decoded;
  if (IsFormUrlEncoded(content_type)) {
    auto form = ParseFormUrlEncoded(request.body);
    auto it = form.find("payload");
    if (it == form.end() || it->second.empty()) {
      return std::unexpected(core::Error::InvalidArgument(
          "github webhook: form-encoded body (application/x-www-form-urlencoded) has no "
          "'payload' field"));
    }
    decoded = std::move(it->second);
    text = decoded;
  }
  auto body = core::ParseJson(text);
  if (!body || !body->is_object()) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "github webhook body (content type '{}') is not a JSON object{}: GitHub sends "
        "application/json, or application/x-www-form-urlencoded with the JSON in 'payload'",
        content_type, decoded.empty() ? "" : " in its 'payload' field")));
  }
  json::object envelope{{"github_event", event}, {"github_delivery", delivery}};
  envelope["payload"] = std::move(*body);
  return json::serialize(envelope);
}

core::Result<Conversion> GitHubSource::Convert(std::string_view text,
                                               std::span<const store::ProductMapping> mappings) const {
  auto parsed = core::ParseJson(text);
  if (!parsed) return std::unexpected(std::move(parsed).error());
  const json::value& root = *parsed;
  const json::value& body = Field(root, "payload");
  Conversion c;
  c.event_type = Str(root, "github_event");
  const std::string delivery = Str(root, "github_delivery");
  if (c.event_type.empty() || !body.is_object()) {
    return std::unexpected(core::Error::InvalidArgument(
        "github payload: github_event and payload are required (see GitHubSource::Payload)"));
  }
  const std::string action = Str(body, "action");
  if (!action.empty()) c.event_type += "." + action;
  const json::value& repo = Field(body, "repository");
  const std::string full_name = Str(repo, "full_name");

  model::OpsEvent e;
  e.source = "github";
  json::object md;
  std::optional<core::Timestamp> time;
  const std::string& type = c.event_type;
  if (type == "ping") {
    c.provider_event_id = delivery.empty() ? "ping:" + Str(body, "hook_id") : delivery;
    return Ignored(std::move(c), "ping: the webhook is set up");
  }
  if (type == "push") {
    const std::string ref = Str(body, "ref");
    const std::string after = Str(body, "after");
    c.provider_event_id = fmt::format("push:{}:{}:{}", full_name, ref, after);
    if (json_fields::Bool(body, "deleted")) {
      return Ignored(std::move(c), fmt::format("push deleting '{}': nothing was shipped", ref));
    }
    e.kind = "push";
    e.status = "pushed";
    e.event_id = "github:" + c.provider_event_id;
    time = TimeField(Field(body, "head_commit"), "timestamp");
    if (!time) time = TimeField(repo, "pushed_at");
    md["ref"] = ref;
    md["after"] = after;
    if (const auto* commits = Get(body, "commits"); commits != nullptr && commits->is_array()) {
      md["commits"] = commits->as_array().size();
    }
    if (auto pusher = Str(Field(body, "pusher"), "name"); !pusher.empty()) md["pusher"] = pusher;
    if (json_fields::Bool(body, "forced")) md["forced"] = true;
  } else if (c.event_type.starts_with("pull_request.")) {
    const json::value& pr = Field(body, "pull_request");
    const std::string number = Str(body, "number").empty() ? Str(pr, "number") : Str(body, "number");
    c.provider_event_id = fmt::format("{}:{}:{}", c.event_type, full_name, number);
    if (action != "closed" || !json_fields::Bool(pr, "merged")) {
      return Ignored(std::move(c), fmt::format("pull request #{} {}{}: only merges count", number,
                                               action, action == "closed" ? " without merge" : ""));
    }
    e.kind = "pull_request_merged";
    e.status = "merged";
    c.provider_event_id = fmt::format("pull_request_merged:{}:{}", full_name, number);
    e.event_id = "github:" + c.provider_event_id;
    time = TimeField(pr, "merged_at");
    md["number"] = Int(pr, "number").value_or(0);
    md["base"] = Str(Field(pr, "base"), "ref");
    if (auto sha = Str(pr, "merge_commit_sha"); !sha.empty()) md["merge_commit_sha"] = sha;
    for (const char* k : {"additions", "deletions", "changed_files", "commits"}) {
      if (auto n = Int(pr, k)) md[k] = *n;
    }
  } else if (c.event_type.starts_with("deployment_status.")) {
    const json::value& status = Field(body, "deployment_status");
    const json::value& deployment = Field(body, "deployment");
    const std::string state = Str(status, "state");
    const std::string status_id = Str(status, "id");
    c.provider_event_id = "deploy:" + status_id;
    if (state != "success" && state != "failure" && state != "error") {
      return Ignored(std::move(c), fmt::format("deployment state '{}' is not final: only success, "
                                               "failure and error count",
                                               state));
    }
    e.kind = "deploy";
    e.status = state;
    e.event_id = "github:" + c.provider_event_id;
    time = TimeField(status, "created_at");
    if (auto started = TimeField(deployment, "created_at"); started && time && *time >= *started) {
      e.latency_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(*time - *started).count();
    }
    md["environment"] = Str(deployment, "environment").empty() ? Str(status, "environment")
                                                                : Str(deployment, "environment");
    md["deployment_id"] = Str(deployment, "id");
    if (auto sha = Str(deployment, "sha"); !sha.empty()) md["sha"] = sha;
    if (auto ref = Str(deployment, "ref"); !ref.empty()) md["ref"] = ref;
  } else if (c.event_type.starts_with("release.")) {
    const json::value& release = Field(body, "release");
    const std::string id = Str(release, "id");
    c.provider_event_id = fmt::format("{}:{}", c.event_type, id);
    if (action != "published") {
      return Ignored(std::move(c), fmt::format("release {}: only published releases count", action));
    }
    e.kind = "release";
    e.status = "published";
    c.provider_event_id = "release:" + id;
    e.event_id = "github:" + c.provider_event_id;
    time = TimeField(release, "published_at");
    md["tag"] = Str(release, "tag_name");
    if (json_fields::Bool(release, "prerelease")) md["prerelease"] = true;
  } else {
    c.provider_event_id = delivery.empty() ? c.event_type : delivery;
    return Ignored(std::move(c), fmt::format("github event '{}' is not counted", type));
  }

  if (full_name.empty()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("github {} delivery '{}': repository.full_name is required", type, delivery)));
  }
  if (!time) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("github {} delivery '{}' carries no usable time", type, delivery)));
  }
  // Event ids are bounded (1..128 printable ASCII): a long ref or name is hashed.
  if (e.event_id.size() > 128) {
    std::string hex = core::Sha256Hex(e.event_id);
    e.event_id = "github:h:" + hex.substr(0, 40);
  }

  std::vector<std::string> ids{full_name};
  if (std::string lower = core::LowerAscii(full_name); lower != full_name) ids.push_back(lower);
  auto mapping = FindMapping(mappings, ids);
  if (!mapping) {
    c.kind = Conversion::Kind::kUnmapped;
    c.reason = UnmappedReason("github", {{"repository", full_name}});
    return c;
  }
  e.time = *time;
  e.product_id = mapping->product_id;
  e.repository = full_name;
  md["github_event"] = c.event_type;
  if (!delivery.empty()) md["delivery"] = delivery;
  md["mapped_by"] = mapping->external_id;
  e.metadata = json::serialize(md);
  c.events.emplace_back(std::move(e));
  c.kind = Conversion::Kind::kEvents;
  return c;
}

}  // namespace tally::ingest
