#include "study/report_document.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/printable.hpp"

namespace archetype {
namespace {

/// A text of the Markdown report on one line: a line break in a name
/// (from the data or a catalog) would end a table row, or start a heading
/// or a list item; every control character is written as \xNN.
std::string md(const std::string& s) { return single_line(s); }

std::string md_cell(const std::string& raw) {
  const std::string s = md(raw);
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// Escapes, then turns **bold**, _italic_ (at word starts) and `code` into tags.
std::string inline_html(const std::string& raw) {
  const std::string s = escape_html(raw);
  std::string out;
  bool bold = false, code = false, italic = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!code && s.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else if (s[i] == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && s[i] == '_' && (italic || i == 0 || s[i - 1] == ' ' || s[i - 1] == '(')) {
      out += italic ? "</em>" : "<em>";
      italic = !italic;
    } else {
      out += s[i];
    }
  }
  if (bold) out += "</strong>";
  if (code) out += "</code>";
  if (italic) out += "</em>";
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// figures/x.png -> figures/x.svg (the figure script writes both).
std::string svg_twin(const std::string& png) {
  const std::size_t dot = png.rfind('.');
  return (dot == std::string::npos ? png : png.substr(0, dot)) + ".svg";
}

const char* kStyle = R"(
body { font: 16px/1.55 "Source Serif Pro", Georgia, "Times New Roman", serif; color: #222; background: #fdfdfb;
       max-width: 980px; margin: 2.5em auto; padding: 0 1.5em; }
h1 { font: 600 2.1em/1.2 "Helvetica Neue", Arial, sans-serif; margin-bottom: 0.2em; }
h2 { font: 600 1.35em/1.3 "Helvetica Neue", Arial, sans-serif; margin-top: 2.2em; padding-bottom: 0.25em;
     border-bottom: 2px solid #e4e4e0; }
p, li { max-width: 46em; }
code { font: 0.88em Menlo, Consolas, monospace; background: #f1f1ee; padding: 0.05em 0.3em; border-radius: 3px; }
table { border-collapse: collapse; margin: 1.2em 0; font: 0.86em/1.4 "Helvetica Neue", Arial, sans-serif; }
th, td { padding: 0.35em 0.8em; border-bottom: 1px solid #e4e4e0; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #bbb; background: #f6f6f3; }
tr:hover td { background: #f9f9f6; }
figure { margin: 1.6em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(16em, 1fr)); gap: 1em; margin: 1.2em 0; }
.card { border: 1px solid #e4e4e0; border-radius: 6px; padding: 0.9em 1.1em; background: #fff; }
.card h3 { font: 600 1.1em/1.3 "Helvetica Neue", Arial, sans-serif; margin: 0 0 0.2em; }
.card .meta { color: #666; font: 0.9em "Helvetica Neue", Arial, sans-serif; margin: 0 0 0.6em; }
.card p { margin: 0.4em 0; }
@media (max-width: 600px) { body { margin: 1em auto; padding: 0 0.8em; font-size: 15px; } h1 { font-size: 1.6em; } }
figcaption { font: italic 0.9em/1.4 Georgia, serif; color: #555; margin-top: 0.4em; }
.note { color: #777; font-style: italic; }
)";

}  // namespace

namespace {

/// Markdown renders raw HTML: a name like `<img onerror=...>` from the
/// data is written as text (&lt;), never as markup.
std::string no_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string ReportDocument::markdown() const {
  return no_html(markdown_text());
}

std::string ReportDocument::markdown_text() const {
  std::ostringstream s;
  for (const ReportBlock& b : blocks_) {
    switch (b.kind) {
      case ReportBlock::Kind::Title: s << "# " << md(b.text) << "\n\n"; break;
      case ReportBlock::Kind::Heading: s << "## " << md(b.text) << "\n\n"; break;
      case ReportBlock::Kind::Paragraph: s << md(b.text) << "\n\n"; break;
      case ReportBlock::Kind::Bullets:
        for (const std::string& i : b.items) s << "- " << md(i) << "\n";
        s << "\n";
        break;
      case ReportBlock::Kind::Table: {
        s << '|';
        for (const std::string& h : b.items) s << ' ' << md_cell(h) << " |";
        s << "\n|";
        for (std::size_t i = 0; i < b.items.size(); ++i) s << "---|";
        s << '\n';
        for (const auto& r : b.rows) {
          s << '|';
          for (const std::string& c : r) s << ' ' << md_cell(c) << " |";
          s << '\n';
        }
        s << '\n';
        break;
      }
      case ReportBlock::Kind::Figure:
        s << "![" << md(b.text) << "](" << b.path << ")\n\n_" << md(b.text) << "_ ([SVG](" << svg_twin(b.path) << "))\n\n";
        break;
      case ReportBlock::Kind::Card:
        s << "### " << md(b.text) << "\n\n_" << md(b.items.front()) << "_\n\n";
        for (std::size_t i = 1; i < b.items.size(); ++i) s << md(b.items[i]) << "\n\n";
        break;
    }
  }
  return s.str();
}

std::string ReportDocument::html(const std::string& base_dir) const {
  std::ostringstream s;
  std::string title = "Report";
  for (const ReportBlock& b : blocks_)
    if (b.kind == ReportBlock::Kind::Title) title = b.text;
  s << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" << escape_html(title)
    << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n";
  bool in_cards = false;
  for (const ReportBlock& b : blocks_) {
    if (in_cards != (b.kind == ReportBlock::Kind::Card)) {
      s << (in_cards ? "</div>\n" : "<div class=\"cards\">\n");
      in_cards = !in_cards;
    }
    switch (b.kind) {
      case ReportBlock::Kind::Title: s << "<h1>" << inline_html(b.text) << "</h1>\n"; break;
      case ReportBlock::Kind::Heading: s << "<h2>" << inline_html(b.text) << "</h2>\n"; break;
      case ReportBlock::Kind::Paragraph: s << "<p>" << inline_html(b.text) << "</p>\n"; break;
      case ReportBlock::Kind::Card:
        s << "<div class=\"card\"><h3>" << inline_html(b.text) << "</h3>\n<p class=\"meta\">" << inline_html(b.items.front())
          << "</p>\n";
        for (std::size_t i = 1; i < b.items.size(); ++i) s << "<p>" << inline_html(b.items[i]) << "</p>\n";
        s << "</div>\n";
        break;
      case ReportBlock::Kind::Bullets:
        s << "<ul>\n";
        for (const std::string& i : b.items) s << "<li>" << inline_html(i) << "</li>\n";
        s << "</ul>\n";
        break;
      case ReportBlock::Kind::Table:
        s << "<div class=\"scroll\"><table>\n<thead><tr>";
        for (const std::string& h : b.items) s << "<th>" << inline_html(h) << "</th>";
        s << "</tr></thead>\n<tbody>\n";
        for (const auto& r : b.rows) {
          s << "<tr>";
          for (const std::string& c : r) s << "<td>" << inline_html(c) << "</td>";
          s << "</tr>\n";
        }
        s << "</tbody>\n</table></div>\n";
        break;
      case ReportBlock::Kind::Figure: {
        std::ifstream in(std::filesystem::path(base_dir) / b.path, std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        if (!in || bytes.str().empty()) {
          s << "<p class=\"note\">[figure not available: " << escape_html(b.text) << "]</p>\n";
          break;
        }
        s << "<figure><img alt=\"" << escape_html(b.text) << "\" src=\"data:image/png;base64," << base64(bytes.str())
          << "\"><figcaption>" << inline_html(b.text) << " <a href=\"" << escape_html(svg_twin(b.path))
          << "\">SVG</a></figcaption></figure>\n";
        break;
      }
    }
  }
  if (in_cards) s << "</div>\n";
  s << "</body>\n</html>\n";
  return s.str();
}

}  // namespace archetype
