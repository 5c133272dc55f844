import BusWire
import CSystemd
import Glibc
import LinuxSystem

/// The command line's side: following a service's signals (`pvd monitor`).
extension BusConnection {
    /// Calls `handler` with every signal from `sender` (interface, member,
    /// path, arguments) until it returns false; and `idle`, when given, every
    /// `seconds` (busy or not), until it returns false.
    public func watchSignals(
        from sender: String, idle: (seconds: Double, call: () -> Bool)? = nil,
        _ handler: @escaping (String, String, String, [BusValue]) -> Bool
    ) throws(BusError) {
        let watcher = SignalWatcher(handler)
        var slot: OpaquePointer?
        let result = sd_bus_add_match(
            bus, &slot, "type='signal',sender='\(sender)'", signalReceived,
            Unmanaged.passUnretained(watcher).toOpaque())
        guard result >= 0 else { throw BusError.system("watch signals of \(sender)", -result) }
        defer { sd_bus_slot_unref(slot) }
        var nextIdle = idle.map { SystemClock.monotonic + $0.seconds }
        while watcher.going {
            if let idle, let due = nextIdle, SystemClock.monotonic >= due {
                guard idle.call() else { return }
                nextIdle = SystemClock.monotonic + idle.seconds
            }
            let processed = sd_bus_process(bus, nil)
            guard processed >= 0 else { throw BusError.system("read the bus", -processed) }
            if processed > 0 { continue }
            let timeout = nextIdle.map { UInt64(max(0, $0 - SystemClock.monotonic) * 1e6) } ?? UInt64.max
            let waited = sd_bus_wait(bus, timeout)
            guard waited >= 0 || waited == -EINTR else { throw BusError.system("wait on the bus", -waited) }
        }
    }
}

private final class SignalWatcher {
    let handler: (String, String, String, [BusValue]) -> Bool
    var going = true
    init(_ handler: @escaping (String, String, String, [BusValue]) -> Bool) { self.handler = handler }
}

private func signalReceived(
    _ message: OpaquePointer?, _ context: UnsafeMutableRawPointer?,
    _ returned: UnsafeMutablePointer<sd_bus_error>?
) -> Int32 {
    guard let message, let context else { return 0 }
    let watcher = Unmanaged<SignalWatcher>.fromOpaque(context).takeUnretainedValue()
    func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
    let arguments = (try? BusMessage(message: message).readAll()) ?? []
    watcher.going = watcher.handler(
        text(sd_bus_message_get_interface(message)), text(sd_bus_message_get_member(message)),
        text(sd_bus_message_get_path(message)), arguments)
    return 0
}
