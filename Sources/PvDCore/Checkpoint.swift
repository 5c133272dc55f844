import PvDWire

/// A way back from a change (org.pvd1's CheckpointCreate), as NetworkManager
/// and nmstate keep one: the declared state as it was — what was added at
/// runtime and the drop-in files — and when it is rolled back unless it is
/// confirmed first. pvdd keeps it in its state file, so a pvdd that crashes
/// or restarts still rolls back when the time runs out.
///
/// The kernel state of each domain is what its declared entry makes (HostNet
/// reconciles the kernel to a spec), so bringing back the declared entries
/// brings back the kernel state; entries that did not change are not touched.
/// The checkpoint also keeps what the kernel had for each declared domain,
/// so that a rollback can say where the kernel is not as it was.
public struct Checkpoint: Equatable, Sendable {
    /// The timeouts a checkpoint may have, in seconds (a day at most).
    public static let timeouts: ClosedRange<UInt32> = 1...86_400
    /// What a checkpoint holds of the drop-in directory, at most.
    public static let maximumDropInBytes = 4 << 20
    /// The declared domains a checkpoint keeps the kernel state of, at most.
    public static let maximumDomains = 1024

    /// Its number: its object is /org/pvd1/checkpoint/NUMBER.
    public var number: UInt32
    /// The declared state when it was made, as `pvd show --yaml` prints it.
    public var declared: String
    /// The names configuration files declared then.
    public var fromFiles: [String]
    /// The YAML files of the drop-in directory then, by file name.
    public var dropIns: [String: String]
    /// What the kernel had for each declared domain then (a VPN domain: its namespace only).
    public var kernel: [String: ObservedDomain]
    /// The timeout it was made with, in seconds.
    public var timeout: UInt32
    /// When it was made and when it is rolled back, in seconds of
    /// CLOCK_BOOTTIME (the daemon's clock): a restart of pvdd keeps it, and
    /// the state file in /run does not outlive a boot.
    public var created: Seconds
    public private(set) var expires: Seconds

    public init(
        number: UInt32, declared: String, fromFiles: [String], dropIns: [String: String], kernel: [String: ObservedDomain] = [:],
        timeout: UInt32, at now: Seconds
    ) {
        self.number = number
        self.declared = declared
        self.fromFiles = fromFiles.sorted()
        self.dropIns = dropIns
        self.kernel = kernel
        self.timeout = timeout
        created = now
        expires = now + Double(timeout)
    }

    /// Whether its time ran out at `now`.
    public func isDue(at now: Seconds) -> Bool { now >= expires }

    /// Why a timeout is not one a checkpoint may have, or nil.
    public static func refusal(ofTimeout seconds: UInt32) -> String? {
        timeouts.contains(seconds)
            ? nil : "a checkpoint's timeout is \(timeouts.lowerBound) to \(timeouts.upperBound) s (one that never runs out saves nobody)"
    }

    /// Why a drop-in file name is not one a checkpoint may hold, or nil:
    /// a plain `NAME.yaml` in the directory, nothing else.
    public static func refusal(ofDropIn name: String) -> String? {
        guard name.hasSuffix(".yaml"), name.utf8.count > 5, name.utf8.count <= 255, !name.hasPrefix("."),
            !name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 < 0x20 || $0 == 0x7F })
        else { return "\(name) is not a drop-in file name (NAME.yaml)" }
        return nil
    }

    /// As the state file keeps it.
    public var json: JSONValue {
        .object([
            JSONMember("number", .integer(Int64(number))), JSONMember("declared", .string(declared)),
            JSONMember("declared_in_files", .array(fromFiles.map(JSONValue.string))),
            JSONMember("drop_ins", .object(dropIns.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })),
            JSONMember("kernel", .object(kernel.sorted { $0.key < $1.key }.map { JSONMember($0.key, $0.value.json) })),
            JSONMember("timeout", .integer(Int64(timeout))), JSONMember("created", .number(created)),
        ])
    }

    /// Reads one back from the state file, checking every member: a bad
    /// one loses the checkpoint with the reason, never crashes pvdd.
    public init(json: JSONValue) throws(StateError) {
        let reader = StateReader(json, path: "checkpoint")
        guard let number = try reader.optionalInteger("number", in: 1...Int64(UInt32.max)),
            let timeout = try reader.optionalInteger("timeout", in: Int64(Checkpoint.timeouts.lowerBound)...Int64(Checkpoint.timeouts.upperBound))
        else { throw StateError("checkpoint: needs a number and a timeout") }
        self.number = UInt32(number)
        self.timeout = UInt32(timeout)
        declared = try reader.string("declared")
        created = try reader.time("created")
        guard created.isFinite, created >= 0 else { throw StateError("checkpoint.created: not a time") }
        expires = created + Double(timeout)
        guard case .array(let names)? = json["declared_in_files"] else { throw StateError("checkpoint.declared_in_files: not a list") }
        fromFiles = try names.map { item throws(StateError) in
            guard case .string(let name) = item, (try? DomainNaming.validateChosen(name)) != nil else {
                throw StateError("checkpoint.declared_in_files: \(item.serialized) is not a domain name")
            }
            return name
        }
        kernel = [:]
        if case .object(let domains)? = json["kernel"] {
            guard domains.count <= Checkpoint.maximumDomains else { throw StateError("checkpoint.kernel: more than \(Checkpoint.maximumDomains) domains") }
            for domain in domains {
                guard (try? DomainNaming.validateChosen(domain.key)) != nil else { throw StateError("checkpoint.kernel: \(domain.key) is not a domain name") }
                kernel[domain.key] = try ObservedDomain(json: domain.value, at: "checkpoint.kernel.\(domain.key)")
            }
        }
        guard case .object(let files)? = json["drop_ins"] else { throw StateError("checkpoint.drop_ins: not an object") }
        dropIns = [:]
        var bytes = declared.utf8.count
        for file in files {
            if let refusal = Checkpoint.refusal(ofDropIn: file.key) { throw StateError("checkpoint.drop_ins: \(refusal)") }
            guard case .string(let text) = file.value else { throw StateError("checkpoint.drop_ins.\(file.key): not text") }
            bytes += text.utf8.count
            dropIns[file.key] = text
        }
        guard bytes <= Checkpoint.maximumDropInBytes + (1 << 20) else { throw StateError("checkpoint: \(bytes) bytes is more than a checkpoint holds") }
    }
}
