import CYaml
import PvDCore
import PvDWire

/// The bounds every YAML document pvd reads is held to (pvdd.yaml, its
/// drop-ins, `pvd apply` and ApplyState input, lab and announce files).
public enum YAMLLimits {
    /// A configuration or declared state is far smaller than this.
    public static let maximumBytes = 1 << 20
    /// Nesting of sequences and mappings.
    public static let maximumDepth = 32
    /// Scalars, sequences and mappings together.
    public static let maximumNodes = 100_000
}

/// Reads YAML text into the JSON-shaped value PvDCore's configuration types
/// are built from, in one pass over libyaml's events: the bounds of
/// ``YAMLLimits`` are checked as the events come, anchors and aliases are
/// refused where they stand (so an alias bomb is never expanded), keys must
/// be plain words given once, and plain scalars are typed by YAML 1.1's rules
/// (``YAMLScalar``). One document per stream.
public enum YAMLDocument {
    public static func parse(_ text: String) throws(ConfigurationError) -> JSONValue {
        let bytes = Array(text.utf8)
        guard bytes.count <= YAMLLimits.maximumBytes else {
            throw ConfigurationError("", "the document has \(bytes.count) bytes; at most \(YAMLLimits.maximumBytes) are read")
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw ConfigurationError("", "cannot start the YAML parser (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { buffer throws(ConfigurationError) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "unreadable"
                    let mark = parser.problem_mark
                    throw ConfigurationError("", "not valid YAML: line \(mark.line + 1), column \(mark.column + 1): \(problem)")
                }
                defer { yaml_event_delete(&event) }
                if let root = try builder.take(event) { return root }
            }
        }
    }
}

/// Builds the value from the events, one container open per nesting level.
private struct Builder {
    /// A sequence or mapping being read, changed in place as its items come.
    private struct Container {
        var path: String
        var isMapping: Bool
        var items: [JSONValue] = []
        var members: [JSONMember] = []
        var keys: Set<String> = []
        /// In a mapping, the key whose value comes next.
        var key: String?
    }

    private var open: [Container] = []
    private var root: JSONValue?
    private var documents = 0
    private var nodes = 0

    /// Takes one event; the whole value once the stream ends.
    mutating func take(_ event: yaml_event_t) throws(ConfigurationError) -> JSONValue? {
        let mark = event.start_mark
        let line = "line \(mark.line + 1)"
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return root ?? .object([])  // an empty file: every default
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            guard documents == 1 else { throw ConfigurationError("", "\(line): a second YAML document; pvd reads one per file") }
        case YAML_ALIAS_EVENT:
            throw ConfigurationError("", "\(line): YAML aliases (*name) are not supported")
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            try count(anchor: scalar.anchor, at: line)
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let value = value(of: text, tag: scalar.tag.map { String(cString: $0) }, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE)
            if let last = open.last, last.isMapping, last.key == nil {
                try startMember(text, typed: value, mark: mark)
            } else {
                add(value)
            }
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            try count(anchor: isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor, at: line)
            guard open.count < YAMLLimits.maximumDepth else {
                throw ConfigurationError("", "\(line): nested deeper than \(YAMLLimits.maximumDepth) levels")
            }
            open.append(Container(path: try pathOfNextValue(at: line), isMapping: isMapping))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            let done = open.removeLast()
            add(done.isMapping ? .object(done.members) : .array(done.items))
        default:
            break
        }
        return nil
    }

    private mutating func count(anchor: UnsafeMutablePointer<yaml_char_t>?, at line: String) throws(ConfigurationError) {
        guard anchor == nil else { throw ConfigurationError("", "\(line): YAML anchors (&name) are not supported") }
        nodes += 1
        guard nodes <= YAMLLimits.maximumNodes else { throw ConfigurationError("", "\(line): more than \(YAMLLimits.maximumNodes) values") }
    }

    /// A scalar's value: typed when plain and untagged or tagged with a
    /// standard tag; a string when quoted, a block, or otherwise tagged.
    private func value(of text: String, tag: String?, plain: Bool) -> JSONValue {
        if let tag { return YAMLScalar.Tag(rawValue: tag).map { YAMLScalar.resolve(text, tag: $0) } ?? .string(text) }
        return plain ? YAMLScalar.resolve(text) : .string(text)
    }

    /// A scalar where a mapping expects a key: a string or an integer, not
    /// given before in this mapping.
    private mutating func startMember(_ text: String, typed: JSONValue, mark: yaml_mark_t) throws(ConfigurationError) {
        let index = open.count - 1
        switch typed {
        case .string, .integer: break
        default: throw ConfigurationError(open[index].path, "line \(mark.line + 1): keys must be plain words")
        }
        guard open[index].keys.insert(text).inserted else {
            throw ConfigurationError(
                open[index].path, "not valid YAML: line \(mark.line + 1), column \(mark.column + 1): the key \(text) is given twice")
        }
        open[index].key = text
    }

    /// Where the value that starts now goes, for error messages; a key may not be a collection.
    private func pathOfNextValue(at line: String) throws(ConfigurationError) -> String {
        guard let container = open.last else { return "" }
        guard container.isMapping else { return "\(container.path)[\(container.items.count)]" }
        guard let key = container.key else { throw ConfigurationError(container.path, "\(line): keys must be plain words") }
        return container.path.isEmpty ? key : "\(container.path).\(key)"
    }

    private mutating func add(_ value: JSONValue) {
        guard !open.isEmpty else {
            root = value
            return
        }
        let index = open.count - 1
        if let key = open[index].key {
            open[index].members.append(JSONMember(key, value))
            open[index].key = nil
        } else {
            open[index].items.append(value)
        }
    }
}

extension DaemonConfiguration {
    /// The configuration in the YAML `text`; errors name the key.
    public init(yaml text: String) throws(ConfigurationError) {
        try self.init(YAMLDocument.parse(text))
    }
}
