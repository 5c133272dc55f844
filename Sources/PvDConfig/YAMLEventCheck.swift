import CYaml
import PvDCore

/// The bounds every YAML document pvd reads is held to (pvdd.yaml, its
/// drop-ins, `pvd apply` and ApplyState input), checked before anything is
/// built from it.
public enum YAMLLimits {
    /// A configuration or declared state is far smaller than this.
    public static let maximumBytes = 1 << 20
    /// Nesting of sequences and mappings.
    public static let maximumDepth = 32
    /// Scalars, sequences and mappings together.
    public static let maximumNodes = 100_000
}

/// A pass over the document's libyaml events (the thin wrapper around Yams's
/// C parser): anchors and aliases are refused where they stand, before any
/// node is composed, so an alias bomb is never expanded; so are documents
/// that are too large, too deep or have too many nodes.
enum YAMLEventCheck {
    static func check(_ text: String) throws(ConfigurationError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= YAMLLimits.maximumBytes else {
            throw ConfigurationError("", "the document has \(bytes.count) bytes; at most \(YAMLLimits.maximumBytes) are read")
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw ConfigurationError("", "cannot start the YAML parser (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        try bytes.withUnsafeBufferPointer { buffer throws(ConfigurationError) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            var nodes = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "unreadable"
                    throw ConfigurationError("", "not valid YAML: line \(parser.problem_mark.line + 1): \(problem)")
                }
                defer { yaml_event_delete(&event) }
                let line = event.start_mark.line + 1
                let anchor: UnsafeMutablePointer<yaml_char_t>?
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_ALIAS_EVENT:
                    throw ConfigurationError("", "line \(line): YAML aliases (*name) are not supported")
                case YAML_SCALAR_EVENT:
                    anchor = event.data.scalar.anchor
                case YAML_SEQUENCE_START_EVENT:
                    anchor = event.data.sequence_start.anchor
                    depth += 1
                case YAML_MAPPING_START_EVENT:
                    anchor = event.data.mapping_start.anchor
                    depth += 1
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                    continue
                default:
                    continue
                }
                guard anchor == nil else { throw ConfigurationError("", "line \(line): YAML anchors (&name) are not supported") }
                guard depth <= YAMLLimits.maximumDepth else {
                    throw ConfigurationError("", "line \(line): nested deeper than \(YAMLLimits.maximumDepth) levels")
                }
                nodes += 1
                guard nodes <= YAMLLimits.maximumNodes else {
                    throw ConfigurationError("", "line \(line): more than \(YAMLLimits.maximumNodes) values")
                }
            }
        }
    }
}
