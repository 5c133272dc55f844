import PvDCore

/// The properties the YAML loader's fuzz target checks, and `swift test`
/// checks again on its corpus: whatever the bytes, reading them returns (no
/// crash, no expansion), and a declared state that reads prints back as the same.
public enum ConfigSelfCheck {
    /// Nil when the property holds for `bytes` read as YAML, else what broke.
    public static func yaml(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let document = try? YAMLDocument.parse(text) else { return nil }
        _ = try? DaemonConfiguration(document)
        guard let state = try? DeclarativeState(document) else { return nil }
        guard let again = try? DeclarativeState(try YAMLDocument.parse(state.yaml)) else { return "its own YAML does not read back:\n\(state.yaml)" }
        return again == state ? nil : "read back as another state:\n\(state.yaml)"
    }
}
