// Internal to src/core: reads the [alerts] section of the TOML file into
// AlertsConfig (config_alerts.cc). Kept out of config_alerts.h so that only
// the config parser includes toml++.
#pragma once

#include <string>
#include <toml++/toml.h>

#include "core/config_alerts.h"
#include "core/result.h"

namespace tally::core {

Status LoadAlertsSection(const std::string& path, const toml::table& section, AlertsConfig* config);

}  // namespace tally::core
