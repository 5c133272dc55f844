import BusWire
import CSystemd

// polkit for BusConnection's methods that have an action: asked without
// blocking the loop, the call answered when polkit's reply comes.

/// A method call waiting for polkit.
private final class PendingAuthorization {
    let message: OpaquePointer
    let registration: Registration

    init(_ message: OpaquePointer, _ registration: Registration) {
        self.message = sd_bus_message_ref(message)
        self.registration = registration
        registration.connection.pendingAuthorizations += 1
    }

    deinit {
        registration.connection.pendingAuthorizations -= 1
        sd_bus_message_unref(message)
    }
}

/// Asks polkit's CheckAuthorization about the caller's unique bus name
/// (the subject polkit recommends: it cannot be reused by another process)
/// without waiting: the call is answered when polkit's reply comes. With
/// the caller's ALLOW_INTERACTIVE_AUTHORIZATION flag polkit may ask the
/// user's authentication agent (for at most 5 minutes).
func authorize(_ message: OpaquePointer, action: String, registration: Registration) -> Int32 {
    let connection = registration.connection
    guard connection.pendingAuthorizations < BusConnection.maximumPendingAuthorizations else {
        return answer(message, registration: registration, authorized: false, problem: "too many calls wait for polkit")
    }
    let sender = sd_bus_message_get_sender(message).map { String(cString: $0) } ?? ""
    let interactive = sd_bus_message_get_allow_interactive_authorization(message) > 0
    var call: OpaquePointer?
    var result = sd_bus_message_new_method_call(
        sd_bus_message_get_bus(message), &call, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
        "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization")
    guard result >= 0, let call else { return answer(message, registration: registration, authorized: false, problem: "cannot ask polkit (\(-result))") }
    defer { sd_bus_message_unref(call) }
    do throws(BusError) {
        try BusMessage(message: call).append([
            .structure([.string("system-bus-name"), .array(elementSignature: "{sv}", [.dictEntry(.string("name"), .variant(.string(sender)))])]),
            .string(action), .array(elementSignature: "{ss}", []), .uint32(interactive ? 1 : 0), .string(""),
        ])
    } catch {
        return answer(message, registration: registration, authorized: false, problem: "cannot ask polkit: \(error.message)")
    }
    let pending = Unmanaged.passRetained(PendingAuthorization(message, registration))
    result = sd_bus_call_async(sd_bus_message_get_bus(message), nil, call, polkitAnswered, pending.toOpaque(), interactive ? 300_000_000 : 25_000_000)
    guard result >= 0 else {
        pending.release()
        return answer(message, registration: registration, authorized: false, problem: "cannot ask polkit (\(-result))")
    }
    return 1
}

/// polkit's reply: `(bba{ss})`, is_authorized first; an error means no.
private func polkitAnswered(_ reply: OpaquePointer?, _ context: UnsafeMutableRawPointer?, _ returned: UnsafeMutablePointer<sd_bus_error>?) -> Int32 {
    let pending = Unmanaged<PendingAuthorization>.fromOpaque(context!).takeRetainedValue()
    guard let reply else { return 0 }
    if let error = sd_bus_message_get_error(reply), let name = error.pointee.name {
        let text = error.pointee.message.map { String(cString: $0) } ?? ""
        _ = answer(pending.message, registration: pending.registration, authorized: false, problem: "polkit answered \(String(cString: name)): \(text)")
        return 0
    }
    var authorized = false
    if case .structure(let fields)? = try? BusMessage(message: reply).readAll().first, case .boolean(let yes)? = fields.first { authorized = yes }
    _ = answer(pending.message, registration: pending.registration, authorized: authorized, problem: authorized ? nil : "polkit did not authorize it")
    return 0
}
