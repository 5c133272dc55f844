import BusWire
import CSystemd
import Glibc

/// An sd-bus connection: the daemon's service side and the command line's
/// client side. Every sd-bus call stays in here and in BusValue.swift.
public final class BusConnection {
    let bus: OpaquePointer
    private var registrations: [Registration] = []
    /// PropertiesChanged emissions so far: each one's reads are a batch of their own.
    private var emissions: UInt64 = 0
    /// Method calls waiting for polkit's answer; beyond ``maximumPendingAuthorizations`` a call is refused.
    var pendingAuthorizations = 0
    static let maximumPendingAuthorizations = 64
    /// Callers' uid and pid by unique bus name (never reused while the bus
    /// runs), so that a client's calls after its first cost no question to
    /// the bus; emptied when it holds ``maximumKnownSenders``.
    var knownSenders: [String: (uid: uid_t?, pid: pid_t?)] = [:]
    static let maximumKnownSenders = 1024

    /// The system bus; its address from DBUS_SYSTEM_BUS_ADDRESS when
    /// `trustEnvironment`, else the fixed ``BusAddress/system`` (a privileged
    /// caller must never be pointed elsewhere).
    public static func system(trustEnvironment: Bool) throws(BusError) -> BusConnection {
        if !trustEnvironment { return try BusConnection(address: BusAddress.system) }
        var bus: OpaquePointer?
        let result = sd_bus_open_system(&bus)
        guard result >= 0, let bus else { throw BusError.system("connect to the system bus", -result) }
        return BusConnection(bus)
    }

    /// A bus at `address` (a D-Bus address such as `unix:path=/run/…`).
    public convenience init(address: String) throws(BusError) {
        var bus: OpaquePointer?
        var result = sd_bus_new(&bus)
        guard result >= 0, let bus else { throw BusError.system("create bus connection", -result) }
        result = sd_bus_set_address(bus, address)
        if result >= 0 { result = sd_bus_set_bus_client(bus, 1) }
        if result >= 0 { result = sd_bus_start(bus) }
        guard result >= 0 else {
            sd_bus_flush_close_unref(bus)
            throw BusError.system("connect to \(address)", -result)
        }
        self.init(bus)
    }

    private init(_ bus: OpaquePointer) { self.bus = bus }

    deinit {
        for registration in registrations {
            sd_bus_slot_unref(registration.slot)
            sd_bus_slot_unref(registration.enumerator)
        }
        sd_bus_flush_close_unref(bus)
    }

    /// Lets `loop` dispatch the connection's messages.
    /// `priority`: sd-event's, lower runs first (0 is the loop's default).
    public func attach(to loop: EventLoop, priority: Int32 = 0) throws(BusError) {
        let result = sd_bus_attach_event(bus, loop.event, priority)
        guard result >= 0 else { throw BusError.system("attach the bus to the event loop", -result) }
    }

    public func requestName(_ name: String) throws(BusError) {
        let result = sd_bus_request_name(bus, name, 0)
        guard result >= 0 else { throw BusError.system("request bus name \(name)", -result) }
    }

    /// Calls a method and waits (at most `timeout` seconds) for its reply.
    /// `interactive`: the callee may have polkit ask the user's
    /// authentication agent (which can take a person's while).
    public func call(
        _ destination: String, _ path: String, _ interface: String, _ member: String,
        _ arguments: [BusValue] = [], interactive: Bool = false, timeout: UInt64 = 25
    ) throws(BusError) -> [BusValue] {
        var message: OpaquePointer?
        var result = sd_bus_message_new_method_call(bus, &message, destination, path, interface, member)
        guard result >= 0, let message else { throw BusError.system("call \(member)", -result) }
        defer { sd_bus_message_unref(message) }
        try BusMessage(message: message).append(arguments)
        if interactive { sd_bus_message_set_allow_interactive_authorization(message, 1) }
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        result = sd_bus_call(bus, message, timeout * 1_000_000, &error, &reply)
        guard result >= 0, let reply else {
            if let name = error.name {
                throw BusError(String(cString: name), error.message.map { String(cString: $0) } ?? "")
            }
            throw BusError.system("call \(member)", -result)
        }
        defer { sd_bus_message_unref(reply) }
        return try BusMessage(message: reply).readAll()
    }

    /// Sends a signal from `path`.
    public func emitSignal(_ path: String, _ interface: String, _ member: String, _ arguments: [BusValue]) throws(BusError) {
        var message: OpaquePointer?
        let result = sd_bus_message_new_signal(bus, &message, path, interface, member)
        guard result >= 0, let message else { throw BusError.system("signal \(member)", -result) }
        defer { sd_bus_message_unref(message) }
        try BusMessage(message: message).append(arguments)
        let sent = sd_bus_send(bus, message, nil)
        guard sent >= 0 else { throw BusError.system("signal \(member)", -sent) }
    }

    /// PropertiesChanged for `names` of the object at `path`, values included.
    public func emitPropertiesChanged(_ path: String, _ interface: String, _ names: [String]) throws(BusError) {
        var strings = names.map { strdup($0) } + [nil]
        defer { for pointer in strings { free(pointer) } }
        emissions += 1
        let result = sd_bus_emit_properties_changed_strv(bus, path, interface, &strings)
        guard result >= 0 else { throw BusError.system("announce changed properties of \(path)", -result) }
    }

    /// The batch the property read going on now belongs to: the incoming
    /// message being answered, if any, and the emissions so far.
    fileprivate func currentPropertyBatch() -> BusPropertyBatch {
        var cookie: UInt64 = 0
        var sender = ""
        if let message = sd_bus_get_current_message(bus) {
            sd_bus_message_get_cookie(message, &cookie)
            sender = sd_bus_message_get_sender(message).map { String(cString: $0) } ?? ""
        }
        return BusPropertyBatch(sender: sender, cookie: cookie, emission: emissions)
    }

    /// Serves `interface` at `path`, or, with `fallback`, at every path under
    /// it that `handler` says exists.
    public func add(
        _ interface: BusInterface, at path: String, fallback: Bool = false,
        handler: BusObjectHandler
    ) throws(BusError) {
        let registration = Registration(interface, handler: handler, connection: self)
        var slot: OpaquePointer?
        let context = Unmanaged.passUnretained(registration).toOpaque()
        let result =
            fallback
            ? sd_bus_add_fallback_vtable(bus, &slot, path, interface.name, registration.vtable, objectFound, context)
            : sd_bus_add_object_vtable(bus, &slot, path, interface.name, registration.vtable, context)
        guard result >= 0 else { throw BusError.system("serve \(interface.name) at \(path)", -result) }
        registration.slot = slot
        if fallback {
            var enumerator: OpaquePointer?
            let enumerated = sd_bus_add_node_enumerator(bus, &enumerator, path, enumerateNodes, context)
            guard enumerated >= 0 else { throw BusError.system("list objects under \(path)", -enumerated) }
            registration.enumerator = enumerator
        }
        registrations.append(registration)
    }
}

/// One served interface: its vtable (sd-bus keeps pointing at it, so it and
/// its strings live as long as the connection) and its handler.
final class Registration {
    unowned let handler: BusObjectHandler
    unowned let connection: BusConnection
    let vtable: UnsafeMutablePointer<sd_bus_vtable>
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private let count: Int
    var slot: OpaquePointer?
    var enumerator: OpaquePointer?

    init(_ interface: BusInterface, handler: BusObjectHandler, connection: BusConnection) {
        self.handler = handler
        self.connection = connection
        count = interface.methods.count + interface.properties.count + interface.signals.count + 2
        vtable = .allocate(capacity: count)
        var entries: [sd_bus_vtable] = []
        var start = sd_bus_vtable()
        start.type = UInt8(_SD_BUS_VTABLE_START)
        start.x.start.element_size = MemoryLayout<sd_bus_vtable>.size
        start.x.start.features = UInt64(_SD_BUS_VTABLE_PARAM_NAMES)
        // Only its presence is checked; dlsym gives the library's own address.
        start.x.start.vtable_format_reference = UnsafePointer(dlsym(nil, "sd_bus_object_vtable_format")?.assumingMemoryBound(to: UInt32.self))
        entries.append(start)
        for method in interface.methods {
            var entry = sd_bus_vtable()
            entry.type = UInt8(_SD_BUS_VTABLE_METHOD)
            entry.flags = UInt64(SD_BUS_VTABLE_UNPRIVILEGED)  // pvd checks callers itself, with named errors
            entry.x.method.member = UnsafePointer(keep(method.name))
            entry.x.method.signature = UnsafePointer(keep(method.inputs.map(\.signature).joined()))
            entry.x.method.result = UnsafePointer(keep(method.outputs.map(\.signature).joined()))
            entry.x.method.handler = methodCalled
            entry.x.method.names = UnsafePointer(keep(names(method.inputs.map(\.name)) + names(method.outputs.map(\.name))))
            entries.append(entry)
        }
        for property in interface.properties {
            var entry = sd_bus_vtable()
            entry.type = UInt8(_SD_BUS_VTABLE_PROPERTY)
            entry.flags = UInt64(SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
            entry.x.property.member = UnsafePointer(keep(property.name))
            entry.x.property.signature = UnsafePointer(keep(property.signature))
            entry.x.property.get = propertyRead
            entries.append(entry)
        }
        for signal in interface.signals {
            var entry = sd_bus_vtable()
            entry.type = UInt8(_SD_BUS_VTABLE_SIGNAL)
            entry.x.signal.member = UnsafePointer(keep(signal.name))
            entry.x.signal.signature = UnsafePointer(keep(signal.arguments.map(\.signature).joined()))
            entry.x.signal.names = UnsafePointer(keep(names(signal.arguments.map(\.name))))
            entries.append(entry)
        }
        var end = sd_bus_vtable()
        end.type = UInt8(_SD_BUS_VTABLE_END)
        entries.append(end)
        vtable.initialize(from: entries, count: entries.count)
    }

    deinit {
        vtable.deallocate()
        for pointer in strings { free(pointer) }
    }

    /// Parameter names as sd-bus wants them: each followed by a NUL.
    private func names(_ list: [String]) -> [UInt8] { list.flatMap { Array($0.utf8) + [0] } }

    private func keep(_ text: String) -> UnsafeMutablePointer<CChar> { keep(Array(text.utf8)) }

    /// A C copy of `bytes` with a NUL after them, freed with the registration.
    private func keep(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        strings.append(copy)
        return copy
    }
}

func registration(_ context: UnsafeMutableRawPointer?) -> Registration {
    Unmanaged<Registration>.fromOpaque(context!).takeUnretainedValue()
}

private func fail(_ error: BusError, _ returned: UnsafeMutablePointer<sd_bus_error>?) -> Int32 {
    sd_bus_error_set(returned, error.name, error.message)
}

/// sd-bus's method callback. A method with a polkit action, called by
/// anyone but root, waits for polkit's answer (``authorize(_:action:registration:)``);
/// every other call is answered at once.
private func methodCalled(
    _ message: OpaquePointer?, _ context: UnsafeMutableRawPointer?,
    _ returned: UnsafeMutablePointer<sd_bus_error>?
) -> Int32 {
    guard let message else { return -EINVAL }
    let registration = registration(context)
    let member = sd_bus_message_get_member(message).map { String(cString: $0) } ?? ""
    var knownUID: uid_t?
    if let action = registration.handler.action(for: member) {
        do throws(BusError) {
            let uid = try senderUID(message)
            if uid != 0 { return authorize(message, action: action, registration: registration) }
            knownUID = uid
        } catch {
            return fail(error, returned)
        }
    }
    return answer(message, registration: registration, authorized: false, problem: nil, uid: knownUID)
}

/// The caller's effective uid, as the bus knows it.
private func senderUID(_ message: OpaquePointer) throws(BusError) -> uid_t {
    guard let uid = senderCredentials(message).uid else {
        throw BusError(PvDBusAPI.ErrorName.accessDenied, "the bus did not say who is calling")
    }
    return uid
}

/// The caller's effective uid and pid, in one question to the bus (with
/// dbus-daemon, one round trip the loop waits for).
private func senderCredentials(_ message: OpaquePointer) -> (uid: uid_t?, pid: pid_t?) {
    var creds: OpaquePointer?
    let queried = sd_bus_query_sender_creds(message, UInt64(SD_BUS_CREDS_EUID) | UInt64(SD_BUS_CREDS_PID), &creds)
    defer { sd_bus_creds_unref(creds) }
    guard queried >= 0 else { return (nil, nil) }
    var uid: uid_t = 0
    var pid: pid_t = 0
    return (sd_bus_creds_get_euid(creds, &uid) >= 0 ? uid : nil, sd_bus_creds_get_pid(creds, &pid) >= 0 ? pid : nil)
}

/// A method call's sender, asked of the bus when a handler first needs it,
/// unless the connection knows it from an earlier call.
private final class Sender {
    let message: OpaquePointer
    unowned let connection: BusConnection
    private let knownUID: uid_t?

    init(_ message: OpaquePointer, connection: BusConnection, uid: uid_t?) {
        self.message = message
        self.connection = connection
        knownUID = uid
    }

    private var credentials: (uid: uid_t?, pid: pid_t?) {
        let name = sd_bus_message_get_sender(message).map { String(cString: $0) } ?? ""
        if let known = connection.knownSenders[name] { return known }
        let fresh = senderCredentials(message)
        guard !name.isEmpty, fresh.uid != nil else { return fresh }
        if connection.knownSenders.count >= BusConnection.maximumKnownSenders { connection.knownSenders = [:] }
        connection.knownSenders[name] = fresh
        return fresh
    }

    func uid() throws(BusError) -> uid_t {
        guard let uid = knownUID ?? credentials.uid else { throw BusError(PvDBusAPI.ErrorName.accessDenied, "the bus did not say who is calling") }
        return uid
    }

    var pid: pid_t? { credentials.pid }
}

/// Reads the arguments, runs the handler and sends its reply or its named
/// error. `uid`: the caller's, when it was asked of the bus already.
func answer(_ message: OpaquePointer, registration: Registration, authorized: Bool, problem: String?, uid: uid_t? = nil) -> Int32 {
    let member = sd_bus_message_get_member(message).map { String(cString: $0) } ?? ""
    let path = sd_bus_message_get_path(message).map { String(cString: $0) } ?? ""
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    defer {
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        registration.handler.finished(member, seconds: Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9)
    }
    do throws(BusError) {
        let arguments = try BusMessage(message: message).readAll()
        // Received descriptors are copies of ours; sent ones sd-bus duplicates:
        // either way, the copies a handler saw or made are closed here.
        defer { for fd in arguments.flatMap(\.descriptors) { close(fd) } }
        let deferral = BusDeferral(message)
        let sender = Sender(message, connection: registration.connection, uid: uid)
        let caller = BusCaller(
            lookUp: { () throws(BusError) -> uid_t in try sender.uid() }, pid: { sender.pid }, deferral: deferral,
            authorized: authorized, problem: problem)
        let values = try registration.handler.call(member, path: path, arguments: arguments, caller: caller)
        defer { for fd in values.flatMap(\.descriptors) { close(fd) } }
        if deferral.deferred { return 1 }
        var reply: OpaquePointer?
        let created = sd_bus_message_new_method_return(message, &reply)
        guard created >= 0, let reply else { return created }
        defer { sd_bus_message_unref(reply) }
        try BusMessage(message: reply).append(values)
        return sd_bus_send(nil, reply, nil)
    } catch {
        replyError(message, error)
        return 1
    }
}

private func propertyRead(
    _ bus: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ interface: UnsafePointer<CChar>?,
    _ property: UnsafePointer<CChar>?, _ reply: OpaquePointer?, _ context: UnsafeMutableRawPointer?,
    _ returned: UnsafeMutablePointer<sd_bus_error>?
) -> Int32 {
    guard let path, let property, let reply else { return -EINVAL }
    do throws(BusError) {
        let registration = registration(context)
        let value = try registration.handler.property(
            String(cString: property), path: String(cString: path), batch: registration.connection.currentPropertyBatch())
        try BusMessage(message: reply).append(value)
        return 1
    } catch {
        return fail(error, returned)
    }
}

private func objectFound(
    _ bus: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ interface: UnsafePointer<CChar>?,
    _ context: UnsafeMutableRawPointer?, _ found: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ returned: UnsafeMutablePointer<sd_bus_error>?
) -> Int32 {
    guard let path, registration(context).handler.exists(path: String(cString: path)) else { return 0 }
    found?.pointee = context
    return 1
}

private func enumerateNodes(
    _ bus: OpaquePointer?, _ prefix: UnsafePointer<CChar>?, _ context: UnsafeMutableRawPointer?,
    _ nodes: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
    _ returned: UnsafeMutablePointer<sd_bus_error>?
) -> Int32 {
    guard let prefix, let nodes else { return -EINVAL }
    let children = registration(context).handler.children(of: String(cString: prefix))
    // sd-bus frees the list and its strings with free().
    let list = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (children.count + 1))!
        .assumingMemoryBound(to: UnsafeMutablePointer<CChar>?.self)
    for (index, child) in children.enumerated() { list[index] = strdup(child) }
    list[children.count] = nil
    nodes.pointee = list
    return 0
}
