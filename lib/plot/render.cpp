// Runs gnuplot on a generated script: finding the program, checking the
// output folder, capturing stderr, and moving the finished file into place.
#include "render.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <locale>
#include <sstream>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/core/util/enum_names.hpp"

extern char** environ;

namespace attnflow::plot {
namespace {

constexpr const char* kInstallHint = "install the Debian package gnuplot-nox";
constexpr int kMinSize = 64;
constexpr int kMaxSize = 16384;

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string temp_folder() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? std::string(t) : std::string("/tmp");
}

// Deletes the listed files when the scope ends (on success, the renamed
// output is no longer at its temporary name, so unlink does nothing).
struct FileCleanup {
  std::vector<std::string> files;
  ~FileCleanup() {
    for (const auto& f : files) ::unlink(f.c_str());
  }
};

std::string make_temp(const std::string& suffix, const std::string& path) {
  std::string name = temp_folder() + "/attnflow-plot-XXXXXX" + suffix;
  std::vector<char> buf(name.begin(), name.end());
  buf.push_back('\0');
  const int fd = ::mkstemps(buf.data(), static_cast<int>(suffix.size()));
  if (fd < 0) {
    throw Error(path + ": cannot create a temporary file in '" + temp_folder() + "' (" +
                std::strerror(errno) + ")");
  }
  ::close(fd);
  return std::string(buf.data());
}

// gnuplot's stderr as one line: the caret lines dropped, the rest trimmed
// and joined with "; ".
std::string condense(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    std::string t = line.substr(b, e - b + 1);
    if (t == "^") continue;
    if (!out.empty()) out += "; ";
    out += t;
  }
  if (out.size() > 1000) out = out.substr(0, 1000) + " ...";
  return out;
}

std::string terminal_command(const detail::Canvas& c) {
  const std::string font = detail::quote(c.font + "," + detail::num(c.font_size));
  switch (c.format) {
    case ImageFormat::Png:
      return "set terminal pngcairo size " + std::to_string(c.width) + "," +
             std::to_string(c.height) + " noenhanced font " + font + " background rgb 'white'\n";
    case ImageFormat::Svg:
      return "set terminal svg size " + std::to_string(c.width) + "," + std::to_string(c.height) +
             " fixed noenhanced font " + font + " background rgb 'white'\n";
    case ImageFormat::Pdf:
      return "set terminal pdfcairo size " + detail::num(c.width / 72.0) + "," +
             detail::num(c.height / 72.0) + " noenhanced font " + font + "\n";
  }
  return {};
}

// Runs `exe script` with stdin from /dev/null and stdout+stderr into `log`;
// returns the wait status.
int run_gnuplot(const std::string& exe, const std::string& script, const std::string& log,
                const std::string& path) {
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_TRUNC);
  if (log_fd < 0) throw Error(path + ": cannot open gnuplot's log '" + log + "'");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  posix_spawn_file_actions_addclose(&actions, log_fd);
  std::string arg0 = exe;
  std::string arg1 = "--default-settings";  // ignore ~/.gnuplot
  std::string arg2 = script;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_fd);
  if (rc != 0) {
    throw Error(path + ": cannot run gnuplot '" + exe + "' (" + std::strerror(rc) + ")");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw Error(path + ": lost the gnuplot process (" + std::strerror(errno) + ")");
  }
  return status;
}

std::string read_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ImageFormat image_format(const std::string& path) {
  static constexpr EnumName<ImageFormat> kExtensions[] = {
      {ImageFormat::Png, ".png"}, {ImageFormat::Svg, ".svg"}, {ImageFormat::Pdf, ".pdf"}};
  const auto slash = path.find_last_of('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = name.find_last_of('.');
  if (dot == std::string::npos || dot == 0) {
    throw Error(path + ": no file extension (expected " + enum_choices(kExtensions) + ")");
  }
  std::string ext = name.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (const auto format = find_enum(kExtensions, ext)) return *format;
  throw Error(path + ": unknown image format '" + name.substr(dot) + "' (expected " +
              enum_choices(kExtensions) + ")");
}

std::string find_gnuplot(const std::string& command) {
  if (command.find('/') != std::string::npos) {
    if (is_executable_file(command)) return command;
  } else if (!command.empty()) {
    const char* env = std::getenv("PATH");
    const std::string paths = env ? env : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= paths.size()) {
      auto end = paths.find(':', start);
      if (end == std::string::npos) end = paths.size();
      const std::string dir = end > start ? paths.substr(start, end - start) : ".";
      const std::string candidate = dir + "/" + command;
      if (is_executable_file(candidate)) return candidate;
      start = end + 1;
    }
  }
  if (command == "gnuplot") throw Error(std::string("gnuplot not found: ") + kInstallHint);
  throw Error("gnuplot not found: '" + command + "' (" + kInstallHint + ")");
}

namespace detail {

void render(const std::string& path, const FigureOptions& figure, int auto_width, int auto_height,
            const std::string& auto_title,
            const std::function<void(Gnuplot&, const Canvas&)>& body) {
  Canvas c;
  c.format = image_format(path);
  const bool bad_size =
      (figure.width != 0 && (figure.width < kMinSize || figure.width > kMaxSize)) ||
      (figure.height != 0 && (figure.height < kMinSize || figure.height > kMaxSize));
  if (bad_size) {
    throw Error(path + ": figure size " + std::to_string(figure.width) + "x" +
                std::to_string(figure.height) + " out of range (" + std::to_string(kMinSize) +
                ".." + std::to_string(kMaxSize) + " pixels, 0 = automatic)");
  }
  if (!(figure.font_size > 0.0 && figure.font_size < 200.0)) {
    throw Error(path + ": font size " + num(figure.font_size) + " out of range (0..200)");
  }
  c.font = figure.font;
  c.font_size = figure.font_size;
  c.title = figure.title ? *figure.title : auto_title;
  // An automatic width also fits the title (drawn 1.25 times the font size).
  const double title_px = 1.25 * c.char_width() * text_length(c.title) + 4.0 * c.font_size;
  auto_width = std::max(auto_width, static_cast<int>(std::min(title_px, 4000.0)));
  c.width = figure.width ? figure.width : std::clamp(auto_width, kMinSize, kMaxSize);
  c.height = figure.height ? figure.height : std::clamp(auto_height, kMinSize, kMaxSize);
  const std::string exe = find_gnuplot(figure.gnuplot);

  const std::string folder = folder_of(path);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    throw Error(path + ": folder '" + folder + "' does not exist");
  }
  if (!S_ISDIR(st.st_mode)) throw Error(path + ": '" + folder + "' is not a folder");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(path + ": is a folder, expected an image file name");
  }
  FileCleanup cleanup;
  AtomicFile image(path);  // gnuplot writes PATH.partial; moved into place at the end
  const std::string& partial = image.partial_path();

  std::string script;
  if (figure.keep_script) {
    script = path + ".gp";
  } else {
    script = make_temp(".gp", path);
    cleanup.files.push_back(script);
  }
  const std::string log = make_temp(".log", path);
  cleanup.files.push_back(log);
  try {
    Gnuplot gp(">" + script);
    gp.imbue(std::locale::classic());
    gp << std::defaultfloat << std::setprecision(10);
    gp << "# attnflow figure\n"
       << "set encoding utf8\n"
       << terminal_command(c) << "set output " << quote(partial) << "\n";
    body(gp, c);
    gp << "unset output\n";
    gp.flush();
    if (!gp) throw Error(path + ": cannot write the gnuplot script '" + script + "'");
  } catch (const std::ios_base::failure&) {
    throw Error(path + ": cannot write the gnuplot script '" + script + "'");
  }

  const int status = run_gnuplot(exe, script, log, path);
  const std::string messages = condense(read_file(log));
  if (!messages.empty()) throw Error(path + ": gnuplot reported: " + messages);
  if (WIFSIGNALED(status)) {
    throw Error(path + ": gnuplot was killed by signal " + std::to_string(WTERMSIG(status)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(path + ": gnuplot exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  if (::stat(partial.c_str(), &st) != 0 || st.st_size == 0) {
    throw Error(path + ": gnuplot wrote an empty file");
  }
  image.commit();
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) {
      out += ' ';
    } else if (ch == '\'') {
      out += "''";
    } else {
      out += ch;
    }
  }
  return out + "'";
}

std::string quote_tic(const std::string& text) {
  std::string escaped;
  for (char ch : text) escaped += ch == '%' ? std::string("%%") : std::string(1, ch);
  return quote(escaped);
}

std::string num(double value) {
  if (std::isnan(value)) return "NaN";
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s << std::setprecision(10) << value;
  return s.str();
}

int text_length(const std::string& text) {
  int n = 0;
  for (char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string shorten(const std::string& text, int max_chars) {
  if (text_length(text) <= max_chars) return text;
  std::string out;
  int n = 0;
  for (char ch : text) {
    const bool starts = (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    if (starts && ++n > max_chars - 1) break;
    out += ch;
  }
  return out + "\xE2\x80\xA6";  // ellipsis
}

Canvas sizing_canvas(const FigureOptions& figure) {
  Canvas c;
  c.font_size = figure.font_size > 0.0 ? figure.font_size : 10.0;
  c.font = figure.font;
  c.title = figure.title ? *figure.title : "auto";
  c.width = figure.width;
  c.height = figure.height;
  return c;
}

int max_text_length(const std::vector<std::string>& texts) {
  int n = 0;
  for (const auto& t : texts) n = std::max(n, text_length(t));
  return n;
}

std::string panel_margins(const Canvas& c, double left, double top, double width, double height) {
  const double w = c.width;
  const double h = c.height;
  return "set lmargin at screen " + num(left / w) + "\nset rmargin at screen " +
         num((left + width) / w) + "\nset tmargin at screen " + num(1.0 - top / h) +
         "\nset bmargin at screen " + num(1.0 - (top + height) / h) + "\n";
}

std::string colorbox_at(const Canvas& c, double left, double top, double width, double height) {
  return "set colorbox user origin screen " + num(left / c.width) + "," +
         num(1.0 - (top + height) / c.height) + " size screen " + num(width / c.width) + "," +
         num(height / c.height) + "\n";
}

std::string chart_title(const Canvas& c) {
  if (c.title.empty()) return "set tmargin 1.5\n";
  return title_label(c) + "set tmargin at screen " + num(1.0 - 4.5 * c.font_size / c.height) + "\n";
}

std::string title_label(const Canvas& c) {
  if (c.title.empty()) return {};
  return "set label 1 " + quote(c.title) + " at screen 0.5," +
         num(1.0 - 1.2 * c.line_height() / c.height) + " center font " +
         quote("," + num(c.font_size * 1.25)) + "\n";
}

int ResolvedScale::text_color(double value) const {
  double t = (value - min) / (max - min);
  t = std::clamp(t, 0.0, 1.0);
  const bool dark = diverging ? std::abs(2.0 * t - 1.0) > 0.6 : t > 0.55;
  return dark ? 0xffffff : 0x1a1a1a;
}

ResolvedScale resolve_scale(const ColorScale& scale, double data_min, double data_max,
                            const std::string& what) {
  ResolvedScale r;
  r.diverging =
      scale.palette == Palette::Diverging || (scale.palette == Palette::Auto && data_min < 0.0);
  if (r.diverging) {
    double m = std::max(std::abs(data_min), std::abs(data_max));
    if (!(m > 0.0)) m = 1.0;
    r.min = -m;
    r.max = m;
  } else {
    r.min = data_min < 0.0 ? data_min : 0.0;
    r.max = data_max > r.min ? data_max : r.min + 1.0;
  }
  if (!std::isnan(scale.min)) r.min = scale.min;
  if (!std::isnan(scale.max)) r.max = scale.max;
  if (!std::isfinite(r.min) || !std::isfinite(r.max) || !(r.min < r.max)) {
    throw Error(what + ": colour range [" + num(r.min) + ", " + num(r.max) + "] is empty");
  }
  return r;
}

std::string palette_commands(const ResolvedScale& s) {
  std::string out;
  if (s.diverging) {
    out =
        "set palette defined (0 '#67001f', 0.1 '#b2182b', 0.2 '#d6604d', 0.3 '#f4a582', "
        "0.4 '#fddbc7', 0.5 '#ffffff', 0.6 '#d1e5f0', 0.7 '#92c5de', 0.8 '#4393c3', "
        "0.9 '#2166ac', 1 '#053061')\n";
  } else {
    out =
        "set palette defined (0 '#ffffff', 0.125 '#deebf7', 0.25 '#c6dbef', 0.375 '#9ecae1', "
        "0.5 '#6baed6', 0.625 '#4292c6', 0.75 '#2171b5', 0.875 '#08519c', 1 '#08306b')\n";
  }
  return out + "set cbrange [" + num(s.min) + ":" + num(s.max) + "]\n";
}

std::string series_color(std::size_t k) {
  static const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                 "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"};
  return colors[k % (sizeof(colors) / sizeof(colors[0]))];
}

}  // namespace detail
}  // namespace attnflow::plot
