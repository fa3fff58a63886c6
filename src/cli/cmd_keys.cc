// `tally keys create|list|revoke`: works on the data folder directly, before
// or while the server runs (the server picks a new key up on first use and
// drops a revoked one within its auth cache TTL).
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "server/auth.h"

namespace tally::cli {

int RunKeys(const KeysArgs& args) {
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  auto now = core::SystemClock::Instance().Now();
  if (args.action == "create") {
    auto scopes = store::ParseScopes(args.scopes);
    if (!scopes) return Fail(scopes.error());
    auto key = server::CreateApiKey(**store, *scopes, args.name.empty() ? args.scopes : args.name, now);
    if (!key) return Fail(key.error());
    std::cerr << fmt::format("created {} with scopes {}; the key is shown only once:\n", key->id,
                             store::ScopesToString(*scopes));
    std::cout << key->secret << "\n";
    return 0;
  }
  if (args.action == "list") {
    auto keys = (*store)->ListApiKeys();
    if (!keys) return Fail(keys.error());
    std::cout << fmt::format("{:<18} {:<20} {:<20} {:<22} {}\n", "ID", "SCOPES", "NAME", "CREATED", "REVOKED");
    for (const auto& k : *keys) {
      std::cout << fmt::format("{:<18} {:<20} {:<20} {:<22} {}\n", k.id, store::ScopesToString(k.scopes), k.name,
                               core::FormatRfc3339(k.created_at),
                               k.revoked_at ? core::FormatRfc3339(*k.revoked_at) : "-");
    }
    return 0;
  }
  if (args.action == "revoke") {
    if (auto s = (*store)->RevokeApiKey(args.id, now); !s) return Fail(s.error());
    std::cout << "revoked " << args.id << "\n";
    return 0;
  }
  return Fail(core::Error::InvalidArgument("unknown keys action '" + args.action + "'"));
}

}  // namespace tally::cli
