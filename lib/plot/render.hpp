// Private to attnflow::plot: runs one gnuplot script into one figure file, and
// the small helpers every figure's script uses (quoting, numbers, palettes,
// panel margins). Not installed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attnflow/plot/color_scale.hpp"
#include "attnflow/plot/figure.hpp"

namespace gnuplotio {
class Gnuplot;  // gnuplot-iostream.h, included by the .cpp files only
}

namespace attnflow::plot::detail {

using gnuplotio::Gnuplot;

/// What a figure's body needs to know about its page.
struct Canvas {
  ImageFormat format = ImageFormat::Png;
  int width = 0;   ///< pixels
  int height = 0;  ///< pixels
  double font_size = 10.0;
  std::string font;
  std::string title;  ///< resolved title ("" = none)

  double char_width() const { return 0.8 * font_size; }   ///< px, average glyph
  double line_height() const { return 1.7 * font_size; }  ///< px
};

/// Writes `path`: checks the extension, the size, that gnuplot exists and the
/// folder is writable, then streams the terminal set-up and `body` to a
/// script, runs gnuplot on it into <path>.partial, and renames that into
/// place when gnuplot exited 0, printed nothing on stderr and wrote a
/// non-empty file. Every failure is an Error naming `path`.
/// `auto_width`/`auto_height` are used when the figure options give 0.
void render(const std::string& path, const FigureOptions& figure, int auto_width, int auto_height,
            const std::string& auto_title,
            const std::function<void(Gnuplot&, const Canvas&)>& body);

/// A gnuplot string literal: single-quoted (only ' is special: doubled),
/// control characters replaced by spaces. For titles, keys, axis labels.
std::string quote(const std::string& text);
/// A label inside an explicit tic list ("set xtics (...)"): also '%' -> '%%'.
std::string quote_tic(const std::string& text);
/// Locale-independent number (up to 10 significant digits).
std::string num(double value);
/// Code points of a UTF-8 string (its width in characters, roughly).
int text_length(const std::string& text);
/// `text` cut to at most `max_chars` code points (an ellipsis ends a cut one).
std::string shorten(const std::string& text, int max_chars = 20);
int max_text_length(const std::vector<std::string>& texts);

/// Canvas of a figure before its size is known (for automatic sizes).
Canvas sizing_canvas(const FigureOptions& figure);

/// Explicit margins of one panel, in pixels from the left and from the top.
std::string panel_margins(const Canvas& canvas, double left, double top, double width,
                          double height);
/// "set colorbox user ..." at a pixel rectangle (left, top, width, height).
std::string colorbox_at(const Canvas& canvas, double left, double top, double width, double height);
/// The title as a screen label 1 at the top centre (for multiplot figures).
std::string title_label(const Canvas& canvas);
/// For one-plot charts: the title centred on the figure (not on the plot
/// area, which a key beside it moves) and a top margin that leaves room.
std::string chart_title(const Canvas& canvas);

/// A colour scale resolved against the data: palette and cbrange.
struct ResolvedScale {
  bool diverging = false;
  double min = 0.0;
  double max = 1.0;
  /// Text colour (0xRRGGBB) that is readable on the cell colour of `value`.
  int text_color(double value) const;
};
ResolvedScale resolve_scale(const ColorScale& scale, double data_min, double data_max,
                            const std::string& what);
/// "set palette ...; set cbrange [...]" lines for a resolved scale.
std::string palette_commands(const ResolvedScale& scale);

/// A qualitative colour (#rrggbb) for series k (8 colours, then repeats).
std::string series_color(std::size_t k);

}  // namespace attnflow::plot::detail
