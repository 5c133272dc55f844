import BusWire
import Glibc

/// Who made a method call, from the bus's credentials of the connection
/// (never from the message's arguments). The uid is asked of the bus only
/// when a handler needs it: with dbus-daemon that is a round trip the loop
/// waits for, which calls anyone may make (ListDomains) need not cost.
public struct BusCaller {
    private let lookUp: () throws(BusError) -> uid_t
    private let lookUpPID: () -> pid_t?
    private let deferral: BusDeferral?
    /// Whether polkit authorized the method's action (``BusObjectHandler/action(for:)``);
    /// false for root, who needs no authorization, and for methods without an action.
    public let authorized: Bool
    /// Why polkit could not be asked, when it could not (it is not running, say).
    public let authorizationProblem: String?

    public init(uid: uid_t, authorized: Bool = false) {
        lookUp = { uid }
        lookUpPID = { nil }
        deferral = nil
        self.authorized = authorized
        authorizationProblem = nil
    }

    init(
        lookUp: @escaping () throws(BusError) -> uid_t, pid: @escaping () -> pid_t?,
        deferral: BusDeferral, authorized: Bool, problem: String?
    ) {
        self.lookUp = lookUp
        lookUpPID = pid
        self.deferral = deferral
        self.authorized = authorized
        authorizationProblem = problem
    }

    /// The caller's effective uid.
    public func uid() throws(BusError) -> uid_t { try lookUp() }

    /// The calling process, as the bus knows it; nil when it does not say.
    public func pid() -> pid_t? { lookUpPID() }

    /// Takes the answer out of the handler's return: the call is answered
    /// when the returned reply is sent (or fails when it is dropped), and
    /// what the handler returns is ignored. Nil outside a bus call.
    public func replyLater() -> BusPendingReply? {
        guard let deferral else { return nil }
        deferral.deferred = true
        return BusPendingReply(deferral.message)
    }
}

/// Whether a handler took its call's answer (``BusCaller/replyLater()``).
final class BusDeferral {
    let message: OpaquePointer
    var deferred = false
    init(_ message: OpaquePointer) { self.message = message }
}

/// The property reads that belong together: those of one incoming Get or
/// GetAll (sd-bus reads a GetAll's properties one by one), or of one
/// PropertiesChanged emission. What a handler worked out for an object may be
/// reused within a batch, never across batches.
public struct BusPropertyBatch: Equatable, Sendable {
    let sender: String
    let cookie: UInt64
    let emission: UInt64
}

/// What serves an interface's methods and properties.
public protocol BusObjectHandler: AnyObject {
    /// Runs method `member` on the object at `path`; the reply's values.
    func call(_ member: String, path: String, arguments: [BusValue], caller: BusCaller) throws(BusError) -> [BusValue]
    /// The value of property `name` of the object at `path`, read in `batch`.
    func property(_ name: String, path: String, batch: BusPropertyBatch) throws(BusError) -> BusValue
    /// Whether an object exists at `path` (for objects under a prefix).
    func exists(path: String) -> Bool
    /// The object paths under a prefix, for introspection.
    func children(of prefix: String) -> [String]
    /// How long a method call took, from reading its arguments to sending the answer.
    func finished(_ member: String, seconds: Double)
    /// The polkit action a caller other than root needs for method `member`,
    /// or nil. The connection asks polkit (without waiting on the loop)
    /// before the handler runs, and tells it the answer in ``BusCaller``.
    func action(for member: String) -> String?
}

extension BusObjectHandler {
    public func finished(_ member: String, seconds: Double) {}
    public func action(for member: String) -> String? { nil }
}
