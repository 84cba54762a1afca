// The page's template, stylesheet, script and d3, embedded at build time from
// lib/pipeline/view/ and d3.min.js (lib/pipeline/view/embed_assets.cmake writes their
// definitions; kViewD3 is empty when CMake found no d3).
#pragma once

namespace attnflow::pipeline::detail {

extern const char kViewHtml[];
extern const char kViewCss[];
extern const char kViewJs[];
extern const char kViewD3[];

}  // namespace attnflow::pipeline::detail
