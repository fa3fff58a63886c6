// GitHubSource: GitHub repository webhooks to ops_events (deploy frequency,
// change failure rate, release cadence per product).
//
// Verify: X-Hub-Signature-256 is "sha256=" + the lowercase hex HMAC-SHA256 of
// the raw body, keyed with the webhook secret; compared in constant time
// against every configured secret (several while one is rolled). GitHub
// signs no timestamp, so there is no replay window: a replay is a duplicate
// by the event ids below. The legacy SHA-1 X-Hub-Signature is not accepted.
// Payload: GitHub names the event and the delivery only in headers, so the
// converted (and parked) text is {"github_event", "github_delivery",
// "payload": <body>}. Both content types GitHub offers are accepted:
// application/json (the body is the JSON) and
// application/x-www-form-urlencoded (the JSON is the url-encoded form field
// `payload`); either way the signature is checked over the raw body as sent,
// before anything is decoded.
// Convert (docs/integrations/github.md):
//  - push (not a branch/tag deletion) -> kind push, status pushed,
//      "github:push:<repo>:<ref>:<after sha>"
//  - pull_request closed with merged  -> kind pull_request_merged, status merged,
//      "github:pull_request_merged:<repo>:<number>"
//  - deployment_status success / failure / error -> kind deploy, status = the
//      state, latency_ms = status time - deployment creation,
//      "github:deploy:<deployment_status id>"
//  - release published               -> kind release, status published,
//      "github:release:<release id>"
//  - ping, other actions and events  -> ignored.
// Ids come from the content, so a redelivery (same X-GitHub-Delivery) and
// the same event sent by two hooks (repository and organization) count once.
// Products: the repository's full_name ("owner/name", as sent, then
// lowercased), then "*"; unmapped deliveries are parked.
#pragma once

#include <string>
#include <vector>

#include "ingest/sources/source.h"

namespace tally::ingest {

class GitHubSource final : public Source {
 public:
  explicit GitHubSource(std::vector<std::string> webhook_secrets);

  std::string_view provider() const override { return "github"; }
  core::Status Verify(const SourceRequest& request, core::Timestamp now) const override;
  core::Result<std::string> Payload(const SourceRequest& request) const override;
  core::Result<Conversion> Convert(std::string_view payload,
                                   std::span<const store::ProductMapping> mappings) const override;

 private:
  std::vector<std::string> secrets_;
};

// True when `header` is exactly "sha256=" + lowercase hex HMAC-SHA256(secret, body).
bool GitHubSignatureMatches(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace tally::ingest
