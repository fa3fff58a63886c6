// LeaderLease: which node evaluates the rules when many `tally serve` nodes
// run (DESIGN.md: cluster-wide jobs run on one elected leader).
//
//  - SingleNodeLease: always the leader (embedded deployment, no Redis).
//  - RedisLease: a key <prefix>:alerts:leader holding the leader's node id
//    with a TTL of `lease`. TryAcquire is one Lua script, atomic on the
//    server: when the key holds our id, extend it (PEXPIRE); when it is
//    absent, SET it NX PX; otherwise someone else leads. A leader that dies
//    stops renewing, the key expires, and the next TryAcquire of another
//    node (which tries every lease/3) takes over: failover within about
//    lease + lease/3. Release deletes the key only if it is still ours.
// A node that cannot reach Redis is not the leader (it cannot prove it is).
// Thread-safety: methods may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "live/redis/redis_connection.h"

namespace tally::alerts {

class LeaderLease {
 public:
  virtual ~LeaderLease() = default;
  // true when this node holds the lease after the call.
  virtual core::Result<bool> TryAcquire() = 0;
  virtual void Release() = 0;
  virtual std::chrono::milliseconds lease() const = 0;
};

class SingleNodeLease final : public LeaderLease {
 public:
  core::Result<bool> TryAcquire() override { return true; }
  void Release() override {}
  std::chrono::milliseconds lease() const override { return std::chrono::seconds(15); }
};

class RedisLease final : public LeaderLease {
 public:
  RedisLease(std::unique_ptr<live::redis::RedisConnection> redis, std::string key, std::string node_id,
             std::chrono::milliseconds lease);
  core::Result<bool> TryAcquire() override;
  void Release() override;
  std::chrono::milliseconds lease() const override { return lease_; }
  const std::string& node_id() const { return node_id_; }

 private:
  std::unique_ptr<live::redis::RedisConnection> redis_;
  const std::string key_, node_id_;
  const std::chrono::milliseconds lease_;
};

// "host:pid": a default node id unique per process.
std::string DefaultNodeId();

}  // namespace tally::alerts
