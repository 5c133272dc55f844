import BusWire
import CSystemd
import Glibc
import LinuxSystem

extension BusError {
    /// A failed sd-bus call of pvd's own: what it was doing and the errno.
    static func system(_ step: String, _ code: Int32) -> BusError {
        BusError("org.freedesktop.DBus.Error.Failed", systemError(step, "", errno: code).description)
    }
}

/// Writing values into and reading them out of one sd-bus message.
struct BusMessage {
    let message: OpaquePointer

    func append(_ values: [BusValue]) throws(BusError) {
        for value in values { try append(value) }
    }

    private func check(_ result: Int32, _ step: String) throws(BusError) {
        guard result >= 0 else { throw BusError.system(step, -result) }
    }

    private func appendBasic<T>(_ type: Character, _ value: T) throws(BusError) {
        var copy = value
        try check(withUnsafePointer(to: &copy) { sd_bus_message_append_basic(message, CChar(type.asciiValue!), $0) }, "append \(type)")
    }

    func append(_ value: BusValue) throws(BusError) {
        switch value {
        case .string(let text), .objectPath(let text), .typeSignature(let text):
            let type = CChar(value.signature.utf8.first!)
            try check(text.withCString { sd_bus_message_append_basic(message, type, $0) }, "append \(value.signature)")
        case .boolean(let flag): try appendBasic("b", Int32(flag ? 1 : 0))
        case .byte(let number): try appendBasic("y", number)
        case .int16(let number): try appendBasic("n", number)
        case .uint16(let number): try appendBasic("q", number)
        case .uint32(let number): try appendBasic("u", number)
        case .uint64(let number): try appendBasic("t", number)
        case .int32(let number): try appendBasic("i", number)
        case .int64(let number): try appendBasic("x", number)
        case .double(let number): try appendBasic("d", number)
        case .unixFD(let fd): try appendBasic("h", fd)
        case .array(let element, let items):
            try container("a", element) { () throws(BusError) in try append(items) }
        case .structure(let fields):
            try container("r", fields.map(\.signature).joined()) { () throws(BusError) in try append(fields) }
        case .dictEntry(let key, let item):
            try container("e", key.signature + item.signature) { () throws(BusError) in try append([key, item]) }
        case .variant(let inner):
            try container("v", inner.signature) { () throws(BusError) in try append(inner) }
        }
    }

    private func container(_ type: Character, _ contents: String, _ body: () throws(BusError) -> Void) throws(BusError) {
        try check(sd_bus_message_open_container(message, CChar(type.asciiValue!), contents), "open container \(type)\(contents)")
        try body()
        try check(sd_bus_message_close_container(message), "close container \(type)\(contents)")
    }

    /// Every value left at this level of the message.
    func readAll() throws(BusError) -> [BusValue] {
        var values: [BusValue] = []
        while let value = try read() { values.append(value) }
        return values
    }

    private func readBasic<T>(_ type: CChar, _ initial: T) throws(BusError) -> T {
        var value = initial
        try check(withUnsafeMutablePointer(to: &value) { sd_bus_message_read_basic(message, type, $0) }, "read \(type)")
        return value
    }

    /// The next value, or nil at the end of the current container.
    func read() throws(BusError) -> BusValue? {
        var type: CChar = 0
        var contents: UnsafePointer<CChar>?
        let peeked = sd_bus_message_peek_type(message, &type, &contents)
        try check(peeked, "read message")
        guard peeked > 0 else { return nil }
        let inner = contents.map { String(cString: $0) } ?? ""
        switch UInt8(bitPattern: type) {
        case UInt8(ascii: "s"), UInt8(ascii: "o"), UInt8(ascii: "g"):
            let pointer = try readBasic(type, UnsafePointer<CChar>?.none)
            let text = pointer.map { String(cString: $0) } ?? ""
            switch UInt8(bitPattern: type) {
            case UInt8(ascii: "o"): return .objectPath(text)
            case UInt8(ascii: "g"): return .typeSignature(text)
            default: return .string(text)
            }
        case UInt8(ascii: "b"): return .boolean(try readBasic(type, Int32(0)) != 0)
        case UInt8(ascii: "y"): return .byte(try readBasic(type, UInt8(0)))
        case UInt8(ascii: "q"): return .uint16(try readBasic(type, UInt16(0)))
        case UInt8(ascii: "n"): return .int16(try readBasic(type, Int16(0)))
        case UInt8(ascii: "u"): return .uint32(try readBasic(type, UInt32(0)))
        case UInt8(ascii: "i"): return .int32(try readBasic(type, Int32(0)))
        case UInt8(ascii: "t"): return .uint64(try readBasic(type, UInt64(0)))
        case UInt8(ascii: "x"): return .int64(try readBasic(type, Int64(0)))
        case UInt8(ascii: "d"): return .double(try readBasic(type, Double(0)))
        case UInt8(ascii: "h"):
            // The message owns its descriptor: hand out a copy of our own.
            let fd = try readBasic(type, Int32(-1))
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)
            guard copy >= 0 else { throw BusError.system("copy a received descriptor", errno) }
            return .unixFD(copy)
        case UInt8(ascii: "a"):
            return .array(elementSignature: inner, try inContainer(type, inner) { () throws(BusError) in try readAll() })
        case UInt8(ascii: "r"):
            return .structure(try inContainer(type, inner) { () throws(BusError) in try readAll() })
        case UInt8(ascii: "e"):
            let pair = try inContainer(type, inner) { () throws(BusError) in try readAll() }
            guard pair.count == 2 else { throw BusError("org.freedesktop.DBus.Error.InvalidArgs", "a dictionary entry without two values") }
            return .dictEntry(pair[0], pair[1])
        case UInt8(ascii: "v"):
            let values = try inContainer(type, inner) { () throws(BusError) in try readAll() }
            guard let value = values.first else { throw BusError("org.freedesktop.DBus.Error.InvalidArgs", "an empty variant") }
            return .variant(value)
        default:
            throw BusError("org.freedesktop.DBus.Error.InvalidArgs", "unsupported D-Bus type \(Character(UnicodeScalar(UInt8(bitPattern: type))))")
        }
    }

    private func inContainer(_ type: CChar, _ contents: String, _ body: () throws(BusError) -> [BusValue]) throws(BusError) -> [BusValue] {
        try check(sd_bus_message_enter_container(message, type, contents), "enter container")
        let values = try body()
        try check(sd_bus_message_exit_container(message), "exit container")
        return values
    }
}

/// A method call answered after its handler returned (``BusCaller/replyLater()``):
/// exactly one of ``send(_:)`` and ``fail(_:)``; dropped unanswered, the
/// caller gets org.pvd1.Error.Failed.
public final class BusPendingReply {
    private var message: OpaquePointer?

    init(_ message: OpaquePointer) { self.message = sd_bus_message_ref(message) }

    deinit { fail(BusError(PvDBusAPI.ErrorName.failed, "the call was dropped unanswered")) }

    /// Sends the reply's values; descriptors among them stay the caller's to close.
    public func send(_ values: [BusValue]) {
        guard let message else { return }
        self.message = nil
        defer { sd_bus_message_unref(message) }
        var reply: OpaquePointer?
        guard sd_bus_message_new_method_return(message, &reply) >= 0, let reply else { return }
        defer { sd_bus_message_unref(reply) }
        do { try BusMessage(message: reply).append(values) } catch {
            replyError(message, error)
            return
        }
        _ = sd_bus_send(nil, reply, nil)
    }

    /// Answers with a named error.
    public func fail(_ error: BusError) {
        guard let message else { return }
        self.message = nil
        defer { sd_bus_message_unref(message) }
        replyError(message, error)
    }
}

/// Answers `message` with `error`'s name and text.
func replyError(_ message: OpaquePointer, _ error: BusError) {
    var named = sd_bus_error()
    defer { sd_bus_error_free(&named) }
    sd_bus_error_set(&named, error.name, error.message)
    _ = sd_bus_reply_method_error(message, &named)
}
