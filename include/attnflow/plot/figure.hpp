// Output settings shared by every figure: file format (from the extension),
// size, font, title, and the gnuplot program that draws it. Figures are
// written to <path>.partial and renamed into place once gnuplot succeeded.
#pragma once

#include <optional>
#include <string>

namespace attnflow::plot {

enum class ImageFormat {
  Png,  ///< .png, gnuplot's pngcairo terminal
  Svg,  ///< .svg, fixed size (width/height attributes in pixels)
  Pdf,  ///< .pdf, pdfcairo; one pixel = one point (1/72 inch)
};

/// Format from the file extension (case-insensitive .png, .svg, .pdf).
/// Throws Error("<path>: unknown image format '<ext>' ...") otherwise.
ImageFormat image_format(const std::string& path);

struct FigureOptions {
  /// Size in pixels; 0 = chosen from the content (token count, panels).
  int width = 0;
  int height = 0;
  /// Font for every text; it must have the glyphs of the token labels
  /// (DejaVu Sans covers Latin with accents, Greek and Cyrillic).
  std::string font = "DejaVu Sans";
  double font_size = 10.0;
  /// Figure title: unset = an automatic title describing the data; "" = none.
  std::optional<std::string> title;
  /// gnuplot to run: a name looked up in PATH, or a path.
  std::string gnuplot = "gnuplot";
  /// Also write the generated gnuplot script next to the figure as <path>.gp.
  bool keep_script = false;
};

/// Full path of the gnuplot executable, or Error("gnuplot not found: install
/// the Debian package gnuplot-nox"). Every plot function calls this first.
std::string find_gnuplot(const std::string& command = "gnuplot");

}  // namespace attnflow::plot
