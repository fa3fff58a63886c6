// The built-in web UI's files, embedded into the binary at build time
// (cmake/embed_assets.cmake writes the table from web/ and uPlot's npm
// package), so the UI works offline and ships as one file.
#pragma once

#include <span>
#include <string_view>

namespace tally::server {

struct WebAsset {
  std::string_view path;          // "/index.html", "/assets/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view data;
};

std::span<const WebAsset> WebAssets();

}  // namespace tally::server
