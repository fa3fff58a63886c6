// The role user SQL runs as (Query, docs/postgres.md "User SQL"): a NOLOGIN
// role `tally_sql_reader` that may only read tally's tables and views. The
// store's own role may be a superuser (tests, small installs), and a READ
// ONLY transaction does not stop a superuser from calling pg_read_file() or
// lo_export(); Query switches to this role (SET LOCAL ROLE) so user SQL has
// SELECT on the schema and nothing else.
//
// Set up at every writable open (Migrate), idempotently: the role is created
// when the connecting role may (superuser or CREATEROLE), else tally logs
// that it is running user SQL as its own role (on stderr: stdout of commands
// such as `tally keys create` is read by scripts). Grants: USAGE on the schema,
// SELECT on every table and view, and default privileges so tables created
// later by this role are readable too.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_schema.h"

namespace tally::store::pg {

core::Status EnsureSqlReaderRole(PGconn* conn) {
  const std::string context = "sql reader role";
  auto who = TALLY_TRY(Run(conn,
                           "SELECT r.rolsuper OR r.rolcreaterole, "
                           "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tally_sql_reader'), "
                           "current_schema() "
                           "FROM pg_roles r WHERE r.rolname = current_user",
                           {}, context));
  const bool may_create = Text(who.get(), 0, 0) == "t";
  const bool exists = Text(who.get(), 0, 1) == "t";
  const std::string schema = Text(who.get(), 0, 2);
  if (!exists && !may_create) {
    fmt::print(
        stderr,
        "warning: postgres: role {} does not exist and the store's role may not create it (needs "
        "CREATEROLE): user SQL runs as the store's own role\n",
        kSqlReaderRole);
    return core::OkStatus();
  }
  char* quoted = PQescapeIdentifier(conn, schema.data(), schema.size());
  if (quoted == nullptr) return std::unexpected(ErrorFromConn(conn, context));
  const std::string s(quoted);
  PQfreemem(quoted);
  // Several nodes (or test databases on one cluster) may create the role at
  // once: the loser's duplicate is not an error. Creating and joining it
  // need CREATEROLE; granting on our own schema and tables does not.
  std::string sql = "BEGIN;";
  if (may_create) {
    sql += fmt::format(
        "{1}"
        "DO $$ BEGIN IF NOT pg_has_role(current_user, '{0}', 'MEMBER') THEN "
        "EXECUTE 'GRANT {0} TO ' || quote_ident(current_user); END IF; END $$;",
        kSqlReaderRole,
        exists ? std::string()
               : fmt::format("DO $$ BEGIN CREATE ROLE {0} NOLOGIN; EXCEPTION WHEN "
                             "duplicate_object OR unique_violation THEN NULL; END $$;",
                             kSqlReaderRole));
  }
  sql += fmt::format(
      "GRANT USAGE ON SCHEMA {1} TO {0};"
      "GRANT SELECT ON ALL TABLES IN SCHEMA {1} TO {0};"
      "ALTER DEFAULT PRIVILEGES IN SCHEMA {1} GRANT SELECT ON TABLES TO {0};"
      "COMMIT;",
      kSqlReaderRole, s);
  core::Status status = Exec(conn, sql, context);
  if (!status) {
    (void)Exec(conn, "ROLLBACK", context);
    fmt::print(stderr,
               "warning: postgres: could not grant {} read access ({}): user SQL runs as the "
               "store's own role\n",
               kSqlReaderRole, status.error().ToString());
  }
  return core::OkStatus();
}

}  // namespace tally::store::pg
