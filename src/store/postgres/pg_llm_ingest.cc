#include "store/postgres/pg_llm_ingest.h"

#include <fmt/format.h>

#include <cstring>

#include "store/postgres/pg_conn.h"

namespace tally::store::pg {

const std::string_view kLlmRawCopySql =
    "COPY llm_calls (time, agent_id, task_id, model, provider, input_tokens, output_tokens, "
    "cached_tokens, cost_usd, latency_ms, status, error_type, reservation_id, metadata, event_id) "
    "FROM STDIN (FORMAT binary)";

const std::string_view kLlmFoldColumns =
    "s BIGINT, agent_id TEXT, model TEXT, provider TEXT, n BIGINT, i BIGINT, o BIGINT, c BIGINT, "
    "cost BIGINT, l BIGINT, e BIGINT";

namespace {

constexpr std::int64_t kSecond = 1'000'000;

std::int64_t FloorSecond(std::int64_t us) {
  std::int64_t r = us % kSecond;
  return us - (r < 0 ? r + kSecond : r);
}

void OptText(BinaryCopy* out, const std::optional<std::string>& v) {
  if (v) out->Text(*v);
  else out->Null();
}

}  // namespace

core::Status WriteLlmRaw(const model::LlmCall& e, BinaryCopy* out) {
  // Checked before the row starts: a refused event leaves no partial row.
  const std::pair<std::string_view, std::int64_t> ints[] = {
      {"input_tokens", e.input_tokens}, {"output_tokens", e.output_tokens},
      {"cached_tokens", e.cached_tokens}, {"latency_ms", e.latency_ms}};
  for (const auto& [field, v] : ints) {
    if (!FitsInt4(v)) {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "llm_calls: event '{}': {} {} does not fit an INTEGER column", e.event_id, field, v)));
    }
  }
  BinaryCopy uuid_check;
  if (e.task_id && !uuid_check.Uuid(*e.task_id)) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "llm_calls: event '{}': task_id '{}' is not a UUID", e.event_id, *e.task_id)));
  }
  out->Row(15);
  out->Timestamp(core::ToMicros(e.time));
  out->Text(e.agent_id);
  if (e.task_id) (void)out->Uuid(*e.task_id);
  else out->Null();
  out->Text(e.model);
  out->Text(e.provider);
  out->Int4(static_cast<std::int32_t>(e.input_tokens));
  out->Int4(static_cast<std::int32_t>(e.output_tokens));
  out->Int4(static_cast<std::int32_t>(e.cached_tokens));
  out->Numeric(e.cost_usd.micros(), 6);
  out->Int4(static_cast<std::int32_t>(e.latency_ms));
  out->Text(model::ToString(e.status));
  OptText(out, e.error_type);
  OptText(out, e.reservation_id);
  if (e.metadata.empty()) out->Null();  // empty metadata is NULL, as in SQLite
  else out->Jsonb(e.metadata);
  out->Text(e.event_id);
  return core::OkStatus();
}

void LlmFold::Add(const model::LlmCall& e) {
  const std::int64_t second = FloorSecond(core::ToMicros(e.time));
  std::string key;
  key.reserve(8 + e.agent_id.size() + e.model.size() + e.provider.size() + 2);
  key.append(reinterpret_cast<const char*>(&second), sizeof(second));
  key.append(e.agent_id).push_back('\0');
  key.append(e.model).push_back('\0');
  key.append(e.provider);
  Sums& s = groups_[std::move(key)];
  ++s.n;
  s.input += e.input_tokens;
  s.output += e.output_tokens;
  s.cached += e.cached_tokens;
  s.cost += e.cost_usd.micros();
  s.latency += e.latency_ms;
  s.errors += e.status == model::LlmStatus::kSuccess ? 0 : 1;
}

std::string LlmFold::CopyText() const {
  std::string out;
  out.reserve(groups_.size() * 96);
  for (const auto& [key, s] : groups_) {
    std::int64_t second = 0;
    std::memcpy(&second, key.data(), sizeof(second));
    std::string_view rest(key.data() + sizeof(second), key.size() - sizeof(second));
    const size_t a = rest.find('\0');
    const size_t m = rest.find('\0', a + 1);
    AppendCopyInt(&out, second);
    out.push_back('\t');
    AppendCopyText(&out, rest.substr(0, a));
    out.push_back('\t');
    AppendCopyText(&out, rest.substr(a + 1, m - a - 1));
    out.push_back('\t');
    AppendCopyText(&out, rest.substr(m + 1));
    for (std::int64_t v : {s.n, s.input, s.output, s.cached, s.cost, s.latency, s.errors}) {
      out.push_back('\t');
      AppendCopyInt(&out, v);
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace tally::store::pg
