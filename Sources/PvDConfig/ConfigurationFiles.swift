import PvDCore
import PvDWire

/// pvdd's configuration as its files hold it: pvdd.yaml (settings, and
/// domains declared with the `domains:`, `vpns:` and `namespaces:` keys of
/// `pvd apply`'s schema) and the drop-ins `domains.d/*.yaml` in the same
/// directory (declared domains and published ports only), merged in
/// file-name order. Every error
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
        var portsIn = Dictionary(uniqueKeysWithValues: settings.ports.keys.map { ($0, main.path) })
        for dropIn in dropIns.sorted(by: { $0.path < $1.path }) {
            let document = try ConfigurationFiles.parse(dropIn.text, in: dropIn.path)
            if case .object(let members) = document,
                let other = members.first(where: { !["domains", "vpns", "namespaces", "ports"].contains($0.key) })
            {
                throw ConfigurationError("\(dropIn.path): \(other.key)", "a drop-in declares domains, vpns, namespaces and ports only")
            }
            try merge(try ConfigurationFiles.declaredState(document, in: dropIn.path), from: dropIn.path)
            guard let value = document["ports"] else { continue }
            let ports: [String: [PublishedPort]]
            do { ports = try PublishedPort.table(value, at: "ports") } catch { throw ConfigurationFiles.locate(error, in: dropIn.path) }
            for (domain, list) in ports.sorted(by: { $0.key < $1.key }) {
                if let other = portsIn[domain] {
                    throw ConfigurationError("\(dropIn.path): ports.\(domain)", "the ports of \(domain) are published in \(other) too")
                }
                portsIn[domain] = dropIn.path
                settings.ports[domain] = list
            }
        }
    }

    /// Reads the configuration file `path` (absent: every default, unless
    /// `mustExist`) and the drop-ins beside it, through `read` (a file's
    /// text, nil when it cannot be read, and then `why` says why at once) and
    /// `entries` (a directory's names).
    public static func read(
        _ path: String, mustExist: Bool, read: (String) -> String?, why: (String) -> String, entries: (String) -> [String]
    ) throws(ConfigurationError) -> ConfigurationFiles {
        let text = read(path)
        if text == nil, mustExist { throw ConfigurationError(path, "cannot read it (\(why(path)))") }
        var dropIns: [(path: String, text: String)] = []
        for name in entries(dropInDirectory(of: path)).sorted() where isDropIn(name) {
            let dropIn = "\(dropInDirectory(of: path))/\(name)"
            guard let text = read(dropIn) else { throw ConfigurationError(dropIn, "cannot read it (\(why(dropIn)))") }
            dropIns.append((dropIn, text))
        }
        return try ConfigurationFiles(main: (path, text), dropIns: dropIns)
    }

    /// The drop-in directory beside the configuration file `path`.
    public static func dropInDirectory(of path: String) -> String {
        (path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ".") + "/" + dropInDirectory
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
