// Colour scales of the heatmaps: a white-to-dark-blue sequential palette for
// attention and relevance (values >= 0), a red-white-blue diverging palette
// centred on 0 for signed values (e.g. signed gradient relevance).
#pragma once

#include <limits>

namespace attnflow::plot {

enum class Palette {
  Auto,        ///< Sequential when every value is >= 0, otherwise Diverging
  Sequential,  ///< white (low) to dark blue (high)
  Diverging,   ///< red (negative), white (0), blue (positive); symmetric range
};

struct ColorScale {
  Palette palette = Palette::Auto;
  /// Range of the colour bar; NaN = automatic: [0, max] for Sequential,
  /// [-m, m] with m = max |value| for Diverging.
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace attnflow::plot
