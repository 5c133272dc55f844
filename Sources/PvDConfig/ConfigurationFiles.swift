import PvDCore
import PvDWire

/// pvdd's configuration as its files hold it: pvdd.yaml (settings, and
/// domains declared with the `domains:`, `vpns:` and `namespaces:` keys of
/// `pvd apply`'s schema) and the drop-ins `domains.d/*.yaml` in the same
/// directory (declared domains only), merged in file-name order. Every error
/// names the file and the key. The caller reads the files; this only parses.
public struct ConfigurationFiles: Sendable {
    /// The drop-in directory beside the configuration file.
    public static let dropInDirectory = "domains.d"
    /// At most this many drop-ins are read.
    public static let maximumDropIns = 256

    public var settings: DaemonConfiguration
    /// What the files declare, all of them together.
    public var declared: DeclarativeState

    /// `main`: the configuration file's path and text (nil: absent, every
    /// default). `dropIns`: each drop-in's path and text, in any order.
    public init(main: (path: String, text: String?), dropIns: [(path: String, text: String)]) throws(ConfigurationError) {
        settings = DaemonConfiguration()
        declared = DeclarativeState()
        var declaredIn: [String: String] = [:]
        func merge(_ state: DeclarativeState, from path: String) throws(ConfigurationError) {
            for name in state.names {
                if let other = declaredIn[name] { throw ConfigurationError(path, "\(name) is declared in \(other) too") }
                declaredIn[name] = path
            }
            declared.domains += state.domains
            declared.vpns += state.vpns
            declared.namespaces += state.namespaces
        }
        if let text = main.text {
            let document = try ConfigurationFiles.parse(text, in: main.path)
            do { settings = try DaemonConfiguration(document) } catch { throw ConfigurationFiles.locate(error, in: main.path) }
            try merge(try ConfigurationFiles.declaredState(document, in: main.path), from: main.path)
        }
        guard dropIns.count <= ConfigurationFiles.maximumDropIns else {
            throw ConfigurationError(ConfigurationFiles.dropInDirectory, "\(dropIns.count) files; at most \(ConfigurationFiles.maximumDropIns) are read")
        }
        for dropIn in dropIns.sorted(by: { $0.path < $1.path }) {
            let document = try ConfigurationFiles.parse(dropIn.text, in: dropIn.path)
            if case .object(let members) = document, let other = members.first(where: { !["domains", "vpns", "namespaces"].contains($0.key) }) {
                throw ConfigurationError("\(dropIn.path): \(other.key)", "a drop-in declares domains, vpns and namespaces only")
            }
            try merge(try ConfigurationFiles.declaredState(document, in: dropIn.path), from: dropIn.path)
        }
    }

    /// Whether a file in the drop-in directory is a drop-in.
    public static func isDropIn(_ fileName: String) -> Bool {
        fileName.hasSuffix(".yaml") && !fileName.hasPrefix(".")
    }

    private static func parse(_ text: String, in path: String) throws(ConfigurationError) -> JSONValue {
        do { return try YAMLDocument.parse(text) } catch { throw locate(error, in: path) }
    }

    /// The `domains`, `vpns` and `namespaces` members of a document, read as a declared state.
    private static func declaredState(_ document: JSONValue, in path: String) throws(ConfigurationError) -> DeclarativeState {
        guard case .object(let members) = document else { return DeclarativeState() }
        let declared = members.filter { ["domains", "vpns", "namespaces"].contains($0.key) }
        do { return try DeclarativeState(.object(declared)) } catch { throw locate(error, in: path) }
    }

    /// The error with the file's path before its key.
    private static func locate(_ error: ConfigurationError, in path: String) -> ConfigurationError {
        ConfigurationError(error.path.isEmpty ? path : "\(path): \(error.path)", error.problem)
    }
}
