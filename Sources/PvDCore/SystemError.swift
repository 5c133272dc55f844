/// pvd's one error for a failed system call, libnl, libndp or libsystemd
/// call, or change to the host: which step, on which object, and what the
/// kernel (or the library) said. It lives here, in pure PvDCore, because the
/// ``HostNetworking`` seam throws it; LinuxSystem's `systemError(_:_:errno:)`
/// makes one from an errno.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The step that failed, e.g. "add address".
    public var step: String
    /// The object it was working on, e.g. "2001:db8::5/128 on pvd0 in pvd-corp".
    public var object: String
    /// The kernel's or library's message.
    public var reason: String
    /// What the kernel or library said, as a number; nil when the error is pvd's own.
    public var code: Code?

    /// A number from the kernel or a library, kept apart by where it came from.
    public enum Code: Equatable, Sendable {
        /// An errno value (EEXIST, ENODEV, …).
        case errno(Int32)
        /// A libnl error number (NLE_EXIST, …; libnl returns them negated).
        case netlink(Int32)
    }

    public init(step: String, object: String, reason: String, code: Code? = nil) {
        self.step = step
        self.object = object
        self.reason = reason
        self.code = code
    }

    /// The same failure told as `step` on `object` (a read of a descriptor
    /// is the caller's "read /etc/pvd/pvdd.yaml").
    public func relabeled(_ step: String, _ object: String) -> SystemError {
        SystemError(step: step, object: object, reason: reason, code: code)
    }

    public var description: String { object.isEmpty ? "\(step): \(reason)" : "\(step) \(object): \(reason)" }
}
