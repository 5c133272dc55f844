import PvDCore
import PvDWire
import Yams

/// Reads YAML text into the JSON-shaped value PvDCore's configuration types
/// are built from, once ``YAMLEventCheck`` found it within ``YAMLLimits``
/// and free of anchors and aliases. Scalars are typed by YAML 1.1's core rules (`true`, `60`,
/// `1.5`, `~`); keys must be plain words (Yams refuses a key repeated in a mapping).
public enum YAMLDocument {
    public static func parse(_ text: String) throws(ConfigurationError) -> JSONValue {
        try YAMLEventCheck.check(text)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigurationError("", "not valid YAML: \(String(describing: error).split(separator: "\n").joined(separator: " "))")
        }
        guard let root else { return .object([]) }  // an empty file: every default
        return try value(of: root, at: "")
    }

    private static func value(of node: Node, at path: String) throws(ConfigurationError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: if let flag = node.bool { return .bool(flag) }
            case Tag.Name.int.rawValue: if let number = node.int { return .integer(Int64(number)) }
            case Tag.Name.float.rawValue: if let number = node.float { return .number(number) }
            default: break
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() { items.append(try value(of: item, at: "\(path)[\(index)]")) }
            return .array(items)
        case .mapping(let mapping):
            var members: [JSONMember] = []
            for (key, item) in mapping {
                guard case .scalar(let scalar) = key, [Tag.Name.str.rawValue, Tag.Name.int.rawValue].contains(key.tag.rawValue) else {
                    throw ConfigurationError(path, "line \(key.mark?.line ?? 0): keys must be plain words")
                }
                let name = scalar.string
                members.append(JSONMember(name, try value(of: item, at: path.isEmpty ? name : "\(path).\(name)")))
            }
            return .object(members)
        case .alias:
            throw ConfigurationError(path, "YAML aliases are not supported")
        }
    }
}

extension DaemonConfiguration {
    /// The configuration in the YAML `text`; errors name the key.
    public init(yaml text: String) throws(ConfigurationError) {
        try self.init(YAMLDocument.parse(text))
    }
}
