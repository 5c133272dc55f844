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
    /// errno, or the negated libnl error code; 0 when the error is pvd's own.
    public var code: Int32

    public init(step: String, object: String, reason: String, code: Int32 = 0) {
        self.step = step
        self.object = object
        self.reason = reason
        self.code = code
    }

    public var description: String { object.isEmpty ? "\(step): \(reason)" : "\(step) \(object): \(reason)" }
}
