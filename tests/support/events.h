// Hand-made valid events for tests.
#pragma once

#include <string>

#include "model/event.h"

namespace tally::testing {

inline model::LlmCall MakeCall(std::string id, std::int64_t cost_micros = 1'234,
                               std::int64_t time_us = 1'772'366'400'000'000) {  // 2026-03-01T12:00:00Z
  model::LlmCall c;
  c.event_id = std::move(id);
  c.time = core::FromMicros(time_us);
  c.agent_id = "kev";
  c.model = "claude-opus-4-6";
  c.provider = "anthropic";
  c.input_tokens = 1000;
  c.output_tokens = 200;
  c.cost_usd = core::Money::FromMicros(cost_micros);
  c.latency_ms = 850;
  return c;
}

inline model::Batch MakeBatch(const std::string& prefix, int n) {
  model::Batch b;
  b.source = "test";
  for (int i = 0; i < n; ++i) b.events.emplace_back(MakeCall(prefix + "-" + std::to_string(i)));
  return b;
}

}  // namespace tally::testing
