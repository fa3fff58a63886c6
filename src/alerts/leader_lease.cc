#include "alerts/leader_lease.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

namespace tally::alerts {
namespace {

// KEYS are passed as ARGV (RedisConnection::EvalSha uses 0 keys): ARGV[1]
// key, ARGV[2] node id, ARGV[3] lease ms.
constexpr const char* kAcquire = R"lua(
local cur = redis.call('GET', ARGV[1])
if cur == ARGV[2] then
  redis.call('PEXPIRE', ARGV[1], ARGV[3])
  return 1
end
if cur then return 0 end
if redis.call('SET', ARGV[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
)lua";

constexpr const char* kRelease = R"lua(
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0
)lua";

}  // namespace

RedisLease::RedisLease(std::unique_ptr<live::redis::RedisConnection> redis, std::string key,
                       std::string node_id, std::chrono::milliseconds lease)
    : redis_(std::move(redis)), key_(std::move(key)), node_id_(std::move(node_id)), lease_(lease) {}

core::Result<bool> RedisLease::TryAcquire() {
  // Plain EVAL: a few hundred bytes every lease/3 cost nothing, and there is
  // no script cache to lose on a Redis restart.
  auto reply = TALLY_TRY(
      redis_->Command({"EVAL", kAcquire, "0", key_, node_id_, std::to_string(lease_.count())}));
  return reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

void RedisLease::Release() {
  (void)redis_->Command({"EVAL", kRelease, "0", key_, node_id_});
}

std::string DefaultNodeId() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return fmt::format("{}:{}", host, getpid());
}

}  // namespace tally::alerts
