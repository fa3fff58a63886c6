// The built-in web UI: static files and browser login.
//   GET  /, /assets/{file}   the embedded single-page app (public: it holds no data)
//   POST /v1/session         {"api_key": "..."} -> session cookie + {"csrf_token", "scopes", ...}
//   GET  /v1/session         who is logged in (read)
//   DELETE /v1/session       log out
#pragma once

#include "server/auth.h"
#include "server/router.h"
#include "server/sessions.h"

namespace tally::server {

void RegisterUiRoutes(Router& router, Authenticator& auth, SessionStore& sessions);

}  // namespace tally::server
