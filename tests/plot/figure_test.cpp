// Output handling shared by every figure: format from the extension, size
// limits, finding gnuplot, folders that do not exist or cannot be written,
// keeping the script.
#include "attnflow/plot/figure.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "attnflow/core/fusion.hpp"
#include "attnflow/plot/heatmap.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::HeatmapOptions;
using plot::ImageFormat;
using plot::plot_heatmap;

const Matrix& small() {
  static const Matrix m = fuse_heads(test::random_stack(1, 1, 3, 1, false), 1);
  return m;
}

TEST(Figure, FormatFromTheExtension) {
  EXPECT_EQ(plot::image_format("a/b.png"), ImageFormat::Png);
  EXPECT_EQ(plot::image_format("B.SVG"), ImageFormat::Svg);
  EXPECT_EQ(plot::image_format("x.y.pdf"), ImageFormat::Pdf);
  test::expect_error([] { plot::image_format("out/fig.jpg"); },
                     "out/fig.jpg: unknown image format '.jpg' (expected .png, .svg or .pdf)");
  test::expect_error([] { plot::image_format("a.d/fig"); },
                     "a.d/fig: no file extension (expected .png, .svg or .pdf)");
}

TEST(Figure, SizeOutOfRange) {
  HeatmapOptions o;
  o.figure.width = 10;
  o.figure.height = 600;
  const std::string p = test::plot_out("size.png");
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); },
                     p + ": figure size 10x600 out of range (64..16384 pixels, 0 = automatic)");
  o.figure.width = 800;
  o.figure.height = 20000;
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); },
                     p + ": figure size 800x20000 out of range (64..16384 pixels, 0 = automatic)");
  o.figure.height = 600;
  o.figure.font_size = 0;
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); },
                     p + ": font size 0 out of range (0..200)");
}

// A stand-in for gnuplot: a shell script that finds the output file in the
// script it is given ($2) and does `body` with it.
std::string fake_gnuplot(const std::string& name, const std::string& body) {
  const std::string exe = test::plot_out(name);
  test::write_file(
      exe, "#!/bin/sh\nout=$(sed -n \"s/^set output '\\(.*\\)'$/\\1/p\" \"$2\")\n" + body + "\n");
  ::chmod(exe.c_str(), 0755);
  return exe;
}

TEST(Figure, AnythingGnuplotPrintsOrAnExitStatusOrAnEmptyFileIsAnError) {
  HeatmapOptions o;
  o.figure.width = 200;
  o.figure.height = 200;
  const std::string p = test::plot_out("fake.png");
  o.figure.gnuplot = fake_gnuplot("gnuplot_warns", "echo x > \"$out\"; echo 'warning: odd' >&2");
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); },
                     p + ": gnuplot reported: warning: odd");
  o.figure.gnuplot = fake_gnuplot("gnuplot_fails", "echo x > \"$out\"; exit 3");
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); },
                     p + ": gnuplot exited with status 3");
  o.figure.gnuplot = fake_gnuplot("gnuplot_writes_nothing", "exit 0");
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); }, p + ": gnuplot wrote an empty file");
  o.figure.gnuplot = fake_gnuplot("gnuplot_ok", "printf 'figure' > \"$out\"");
  plot_heatmap(small(), {}, p, o);
  EXPECT_EQ(test::read_file(p), "figure");
  EXPECT_FALSE(test::file_exists(p + ".partial"));
}

TEST(Figure, FindsGnuplot) {
  const std::string exe = plot::find_gnuplot();
  ASSERT_GE(exe.size(), 8u);
  EXPECT_EQ(exe.substr(exe.size() - 8), "/gnuplot");
  EXPECT_EQ(plot::find_gnuplot(exe), exe);
}

TEST(Figure, MissingGnuplotIsOneClearError) {
  HeatmapOptions o;
  o.figure.gnuplot = "/nonexistent/bin/gnuplot";
  const std::string p = test::plot_out("no_gnuplot.png");
  test::expect_error([&] { plot_heatmap(small(), {}, p, o); },
                     "gnuplot not found: '/nonexistent/bin/gnuplot' (install the Debian package "
                     "gnuplot-nox)");
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/nonexistent/bin", 1);
  test::expect_error([&] { plot_heatmap(small(), {}, p); },
                     "gnuplot not found: install the Debian package gnuplot-nox");
  ::setenv("PATH", path.c_str(), 1);
  EXPECT_FALSE(test::file_exists(p));
}

TEST(Figure, FolderThatDoesNotExist) {
  const std::string dir = test::plot_out("no_such_folder");
  const std::string p = dir + "/fig.png";
  test::expect_error([&] { plot_heatmap(small(), {}, p); },
                     p + ": folder '" + dir + "' does not exist");
  const std::string file = test::plot_out("a_file.txt");
  test::write_file(file, "x");
  test::expect_error([&] { plot_heatmap(small(), {}, file + "/fig.png"); },
                     file + "/fig.png: '" + file + "' is not a folder");
  test::expect_error([&] { plot_heatmap(small(), {}, test::plot_out(".")); },
                     test::plot_out(".") + ": no file extension (expected .png, .svg or .pdf)");
  const std::string dir_png = test::plot_out("folder.png");
  ::mkdir(dir_png.c_str(), 0777);
  test::expect_error([&] { plot_heatmap(small(), {}, dir_png); },
                     dir_png + ": is a folder, expected an image file name");
}

TEST(Figure, FolderThatCannotBeWritten) {
  const std::string dir = test::plot_out("read_only");
  ::mkdir(dir.c_str(), 0777);
  ::chmod(dir.c_str(), 0555);
  const std::string probe = dir + "/probe";
  if (std::FILE* f = std::fopen(probe.c_str(), "w")) {  // root ignores permissions
    std::fclose(f);
    std::remove(probe.c_str());
    ::chmod(dir.c_str(), 0777);
    GTEST_SKIP() << "running with permission to write into a read-only folder";
  }
  const std::string p = dir + "/fig.png";
  test::expect_error([&] { plot_heatmap(small(), {}, p); },
                     p + ": cannot write to folder '" + dir + "' (Permission denied)");
  ::chmod(dir.c_str(), 0777);
}

TEST(Figure, SysfsCannotBeWrittenEvenByRoot) {
  if (!test::file_exists("/sys/kernel")) GTEST_SKIP() << "no /sys";
  test::expect_error_prefix([&] { plot_heatmap(small(), {}, "/sys/fig.png"); },
                            "/sys/fig.png: cannot write to folder '/sys' (");
}

TEST(Figure, KeepScriptWritesTheGnuplotScriptNextToTheFigure) {
  HeatmapOptions o;
  o.figure.keep_script = true;
  o.figure.width = 400;
  o.figure.height = 380;
  const std::string p = test::plot_out("kept.svg");
  plot_heatmap(small(), {"x", "y", "z"}, p, o);
  test::expect_svg(p, 400, 380);
  const std::string script = test::read_file(p + ".gp");
  EXPECT_NE(script.find("set terminal svg size 400,380"), std::string::npos);
  EXPECT_NE(script.find("boxxyerror"), std::string::npos);
}

TEST(Figure, RelativePathInTheCurrentFolder) {
  const std::string here = test::plot_out("");
  char old[4096];
  ASSERT_NE(::getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(::chdir(here.c_str()), 0);
  HeatmapOptions o;
  o.figure.width = 300;
  o.figure.height = 300;
  plot_heatmap(small(), {}, "relative.png", o);
  ASSERT_EQ(::chdir(old), 0);
  test::expect_png(here + "relative.png", 300, 300);
}

}  // namespace
}  // namespace attnflow
