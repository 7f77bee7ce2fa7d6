// The libyaml event source of load_one_document (yaml_sources.hpp): builds the tree
// yaml-cpp's source would build, or declines (nullopt) and leaves the text to yaml-cpp.
//
// What it reproduces, checked against yaml-cpp by tests/unit/test_yaml_sources.cpp and
// the fuzz target yaml_sources (docs/fuzzing.md):
// - kinds: a plain scalar "~", "null", "Null" or "NULL" is null (yaml-cpp's
//   IsNullString), every other scalar, quoted ones included, is a scalar;
// - marks: yaml-cpp counts bytes of the UTF-8 text after a leading BOM (pos), lines at
//   each '\n' and columns in bytes since it; libyaml counts characters, so marks are
//   converted by walking the text forward (Cursor below).
// What it declines (yaml-cpp decides; these are rare in sgfw's files):
// - any libyaml error, and any text yaml-cpp would read differently before scanning:
//   a NUL byte, a UTF-16/32 byte order mark, a BOM after the first bytes, a CR not
//   followed by LF, NEL/LS/PS (line breaks to libyaml only), the escapes \N and \_
//   (anywhere: found by a byte search);
// - a '?' anywhere inside a flow collection: yaml-cpp ends a plain scalar there (its
//   EndScalarInFlow) and needs a blank after a key indicator, libyaml neither;
// - a block scalar (| or >) not indented past its block collection: libyaml makes it
//   the collection's item, yaml-cpp ends the collection there; a block scalar with a
//   blank at the end of one of its lines (or of the text): yaml-cpp keeps it; a block
//   scalar keeping its final breaks (|+, >+): the two keep a different number;
// - a quoted scalar over several lines (the two fold empty lines differently), and in a
//   text with CRLF line breaks any scalar over several lines (they fold CRLF differently);
// - tags, anchors, aliases (yaml-cpp reports the loaders' error), %-directives;
// - empty nodes (`key:` with no value, `- ` with no item): yaml-cpp marks these at the
//   token after them, by rules of its own;
// - a second document, nesting deeper than kMaxYamlDepth (yaml-cpp reports the error);
//   parsing stops there, so libyaml never reads further.
#include "config/yaml_reader.hpp"
#include "config/yaml_sources.hpp"

#include <yaml.h>

#include <cstring>
#include <vector>

namespace sgfw::config {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

const char* end(std::string_view text) { return text.data() + text.size(); }

// Converts libyaml's character index into yaml-cpp's mark. Events arrive in text order,
// so the walk is forward; a backward target restarts from the beginning.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  YAML::Mark at(size_t char_index) {
    if (char_index < chars_) *this = Cursor(text_);
    while (chars_ < char_index && mark_.pos < static_cast<int>(text_.size())) {
      const auto lead = static_cast<unsigned char>(text_[mark_.pos]);
      const int width = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      if (lead == '\n') {
        ++mark_.line;
        mark_.column = 0;
      } else {
        mark_.column += width;
      }
      mark_.pos += width;
      ++chars_;
    }
    return mark_;
  }

 private:
  std::string_view text_;
  size_t chars_ = 0;
  YAML::Mark mark_{};  // pos, line, column: 0
};

bool is_yaml_cpp_null(const yaml_event_t& e) {
  if (e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const std::string_view v(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
  return v == "~" || v == "null" || v == "Null" || v == "NULL";
}

// One parser and its current event, freed on every path.
class Events {
 public:
  explicit Events(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~Events() {
    if (have_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  // The next event, or nullptr on a libyaml error.
  const yaml_event_t* next() {
    if (have_) yaml_event_delete(&event_);
    have_ = yaml_parser_parse(&parser_, &event_) != 0;
    return have_ ? &event_ : nullptr;
  }

 private:
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool have_ = false;
};

// Texts yaml-cpp's stream reads other than as the UTF-8 bytes libyaml sees.
bool declined_before_scanning(std::string_view text) {
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return true;
  if (text.size() >= 2 && ((text[0] == '\xFE' && text[1] == '\xFF') || (text[0] == '\xFF' && text[1] == '\xFE')))
    return true;
  const size_t from = text.substr(0, kBom.size()) == kBom ? kBom.size() : 0;
  if (text.find(kBom, from) != std::string_view::npos) return true;
  // A lone CR: a line break to libyaml, part of the scalar to yaml-cpp.
  for (const char* p = text.data(); (p = static_cast<const char*>(std::memchr(p, '\r', end(text) - p))) != nullptr;)
    if (++p == end(text) || *p != '\n') return true;
  // The escapes \N and \_: yaml-cpp writes the bytes 0x85 and 0xA0, not their UTF-8.
  for (const char* p = text.data(); (p = static_cast<const char*>(std::memchr(p, '\\', end(text) - p))) != nullptr;)
    if (++p != end(text) && (*p == 'N' || *p == '_')) return true;
  // NEL, LS and PS (U+0085, U+2028, U+2029): line breaks to libyaml (YAML 1.1), text
  // to yaml-cpp.
  for (const char* p = text.data(); (p = static_cast<const char*>(std::memchr(p, '\xC2', end(text) - p))) != nullptr;)
    if (++p != end(text) && *p == '\x85') return true;
  for (const char* p = text.data(); (p = static_cast<const char*>(std::memchr(p, '\xE2', end(text) - p))) != nullptr;)
    if (end(text) - ++p >= 2 && p[0] == '\x80' && (p[1] == '\xA8' || p[1] == '\xA9')) return true;
  return false;
}

// Whether a space or tab ends a line (or the text) between `from` and the first
// non-blank byte at or after `to`: yaml-cpp keeps such blanks in a block scalar,
// libyaml drops them.
bool trailing_blank(std::string_view body, size_t from, size_t to) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (to < body.size() && (blank(body[to]) || body[to] == '\n' || body[to] == '\r')) ++to;
  for (size_t i = from; i < to; ++i)
    if (blank(body[i]) && (i + 1 == body.size() || body[i + 1] == '\n' || body[i + 1] == '\r')) return true;
  return false;
}

// Whether the block scalar header at `at` (| or > and its indicators) asks to keep
// the final line breaks (+): the two keep a different number of them.
bool keeps_breaks(std::string_view body, size_t at) {
  for (size_t i = at + 1; i < body.size() && body[i] != '\n' && body[i] != ' ' && body[i] != '#'; ++i)
    if (body[i] == '+') return true;
  return false;
}

}  // namespace

std::optional<YamlDocument> load_one_document_libyaml(std::string_view text) {
  if (declined_before_scanning(text)) return std::nullopt;
  const std::string_view body = text.substr(0, kBom.size()) == kBom ? text.substr(kBom.size()) : text;
  Events events(text);
  Cursor cursor(body);
  YamlDocument doc;
  std::vector<YamlItem*> open;
  std::vector<bool> open_flow;       // per open collection: flow style
  std::vector<size_t> open_column;   // per open collection: libyaml's column
  int flow_depth = 0;
  size_t flow_start = 0;  // byte where the outermost open flow collection starts
  int documents = 0;
  const bool has_cr = std::memchr(text.data(), '\r', text.size()) != nullptr;
  auto attach = [&](const YamlItem& item) {
    if (open.empty())
      doc.set_root(&item);
    else
      open.back()->kids.push_back(&item);
  };
  while (const yaml_event_t* e = events.next()) {
    switch (e->type) {
      case YAML_STREAM_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
        break;
      case YAML_STREAM_END_EVENT:
        return doc;
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1 || e->data.document_start.version_directive != nullptr ||
            e->data.document_start.tag_directives.start != e->data.document_start.tag_directives.end)
          return std::nullopt;
        break;
      case YAML_ALIAS_EVENT:
        return std::nullopt;
      case YAML_SCALAR_EVENT: {
        if (e->data.scalar.anchor != nullptr || e->data.scalar.tag != nullptr ||
            (e->data.scalar.length == 0 && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
          return std::nullopt;
        const yaml_scalar_style_t style = e->data.scalar.style;
        if ((style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) && !open.empty() &&
            !open_flow.back() && e->start_mark.column <= open_column.back())
          return std::nullopt;
        // Each mark once, start before end: the cursor only walks forward (a mark
        // behind it restarts the walk from the text's start).
        const YAML::Mark start = cursor.at(e->start_mark.index);
        if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) {
          const auto from = static_cast<size_t>(start.pos);
          if (keeps_breaks(body, from) ||
              trailing_blank(body, from, static_cast<size_t>(cursor.at(e->end_mark.index).pos)))
            return std::nullopt;
        }
        const bool quoted = style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        if ((has_cr || quoted) && e->start_mark.line != e->end_mark.line) return std::nullopt;
        const bool null = is_yaml_cpp_null(*e);
        YamlItem& item = doc.add(null ? YamlKind::kNull : YamlKind::kScalar, start);
        if (!null) item.scalar.assign(reinterpret_cast<const char*>(e->data.scalar.value), e->data.scalar.length);
        attach(item);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool seq = e->type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t* anchor = seq ? e->data.sequence_start.anchor : e->data.mapping_start.anchor;
        const yaml_char_t* tag = seq ? e->data.sequence_start.tag : e->data.mapping_start.tag;
        if (anchor != nullptr || tag != nullptr || open.size() >= static_cast<size_t>(kMaxYamlDepth))
          return std::nullopt;
        YamlItem& item = doc.add(seq ? YamlKind::kSequence : YamlKind::kMap, cursor.at(e->start_mark.index));
        attach(item);
        open.push_back(&item);
        const bool flow = seq ? e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
                              : e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
        open_flow.push_back(flow);
        open_column.push_back(e->start_mark.column);
        if (flow && flow_depth++ == 0) flow_start = item.mark.pos;
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        open.pop_back();
        if (open_flow.back() && --flow_depth == 0) {
          const auto end = static_cast<size_t>(cursor.at(e->end_mark.index).pos);
          if (std::memchr(body.data() + flow_start, '?', end - flow_start) != nullptr) return std::nullopt;
        }
        open_flow.pop_back();
        open_column.pop_back();
        break;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;  // a libyaml error
}

}  // namespace sgfw::config
