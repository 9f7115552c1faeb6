// A report as a list of blocks, rendered to Markdown or to one
// self-contained HTML file (figures inlined), so both reports always carry
// the same content.
#pragma once

#include <string>
#include <vector>

namespace archetype {

struct ReportBlock {
  enum class Kind { Title, Heading, Paragraph, Bullets, Table, Figure, Card } kind;
  std::string text;                             ///< title, heading, paragraph, figure caption, card title
  std::vector<std::string> items;               ///< bullets; table header; card lines (the first: its meta line)
  std::vector<std::vector<std::string>> rows;   ///< table rows
  std::string path;                             ///< figure: PNG path relative to the report
};

/// Inline markup in texts: **bold**, _italic_, `code`.
class ReportDocument {
 public:
  void title(std::string t) { blocks_.push_back({ReportBlock::Kind::Title, std::move(t), {}, {}, {}}); }
  void heading(std::string t) { blocks_.push_back({ReportBlock::Kind::Heading, std::move(t), {}, {}, {}}); }
  void paragraph(std::string t) { blocks_.push_back({ReportBlock::Kind::Paragraph, std::move(t), {}, {}, {}}); }
  void bullets(std::vector<std::string> items) {
    if (!items.empty()) blocks_.push_back({ReportBlock::Kind::Bullets, "", std::move(items), {}, {}});
  }
  void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
    blocks_.push_back({ReportBlock::Kind::Table, "", std::move(header), std::move(rows), {}});
  }
  /// `relative_png`'s SVG twin (same name, .svg) is linked beside it.
  void figure(std::string caption, std::string relative_png) {
    blocks_.push_back({ReportBlock::Kind::Figure, std::move(caption), {}, {}, std::move(relative_png)});
  }
  /// One card of an executive summary: a title, a short meta line, then
  /// labelled lines ("**What it is:** ..."); consecutive cards form a grid.
  void card(std::string title, std::string meta, std::vector<std::string> lines) {
    lines.insert(lines.begin(), std::move(meta));
    blocks_.push_back({ReportBlock::Kind::Card, std::move(title), std::move(lines), {}, {}});
  }

  /// Markdown with '<' and '>' of the texts as entities (no raw HTML).
  std::string markdown() const;
  /// `base_dir` is where relative figure paths resolve; PNGs are inlined as
  /// data URIs (a missing file becomes its caption in a note).
  std::string html(const std::string& base_dir) const;

 private:
  std::string markdown_text() const;

  std::vector<ReportBlock> blocks_;
};

}  // namespace archetype
