// Reads the shared, recorded provider payloads (../shared/fixtures, see
// PROVENANCE.md) in place; they are never copied into the repository.
#pragma once

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace tally::testing {

inline std::string FixturePath(const std::string& relative) {
  return std::string(TALLY_FIXTURES) + "/" + relative;
}

inline std::string ReadFixture(const std::string& relative) {
  std::ifstream in(FixturePath(relative), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline boost::json::value ReadFixtureJson(const std::string& relative) {
  return boost::json::parse(ReadFixture(relative));
}

}  // namespace tally::testing
