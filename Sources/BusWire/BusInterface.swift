/// One interface of an object, described for sd-bus's vtable (and so for
/// its introspection data).
public struct BusInterface: Sendable {
    public struct Method: Sendable {
        public var name: String
        public var inputs: [(name: String, signature: String)]
        public var outputs: [(name: String, signature: String)]
        public init(_ name: String, in inputs: [(String, String)] = [], out outputs: [(String, String)] = []) {
            self.name = name
            self.inputs = inputs.map { (name: $0.0, signature: $0.1) }
            self.outputs = outputs.map { (name: $0.0, signature: $0.1) }
        }
    }
    public struct Property: Sendable {
        public var name: String
        public var signature: String
        public init(_ name: String, _ signature: String) {
            self.name = name
            self.signature = signature
        }
    }
    public struct Signal: Sendable {
        public var name: String
        public var arguments: [(name: String, signature: String)]
        public init(_ name: String, _ arguments: [(String, String)]) {
            self.name = name
            self.arguments = arguments.map { (name: $0.0, signature: $0.1) }
        }
    }

    public var name: String
    public var methods: [Method]
    public var properties: [Property]
    public var signals: [Signal]

    public init(_ name: String, methods: [Method] = [], properties: [Property] = [], signals: [Signal] = []) {
        self.name = name
        self.methods = methods
        self.properties = properties
        self.signals = signals
    }
}
