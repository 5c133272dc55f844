import CommandSyntax
import LinuxSystem
import PvDWire

#if canImport(Glibc)
    import Glibc
#endif

/// `pvd ra decode`: prints RAs given as hex or found in a capture file.
struct RADecode: CommandLineCommand {
    static let command = Command(
        "decode", abstract: "Decode an RA given as hex (argument or stdin) or every RA in a pcap/pcapng file.",
        discussion: """
            The hex is the ICMPv6 message from its type octet (86) on, as libndp \
            delivers it; white space, ':' and '-' between digits are ignored. The \
            checksum is not verified. Malformed input exits with status 2.
            """,
        arguments: [Argument("hex", help: "The RA as hex. Read from stdin when absent.", optional: true)],
        options: [
            .value("pcap", "file", help: "Decode every RA in this pcap or pcapng file (Ethernet, Linux cooked).", completion: .file),
            .flag("json", help: "Print one JSON object per RA."),
        ],
        action: action)
    let hex: String?
    let pcapFile: String?
    let json: Bool

    init(_ arguments: Arguments) throws(UsageError) {
        (hex, pcapFile, json) = (arguments.argument("hex"), arguments.value("pcap"), arguments.flag("json"))
        if hex != nil, pcapFile != nil { throw UsageError("give either hex or --pcap, not both") }
    }

    func run() throws {
        var messages: [(captured: CapturedRouterAdvertisement?, bytes: [UInt8])] = []
        if let pcapFile {
            let file = try readInput(path: pcapFile, limit: 64 << 20)
            do {
                for ra in try PacketCapture.routerAdvertisements(in: file) {
                    messages.append((ra, ra.message))
                }
            } catch {
                throw failure("\(pcapFile): \(error)")
            }
        } else {
            let text = try hex ?? String(decoding: readInput(path: nil, limit: 1 << 20), as: UTF8.self)
            guard let bytes = Hex.decode(text) else { throw failure("input is not hex") }
            messages.append((nil, bytes))
        }
        var failed = false
        for message in messages {
            var notes: [ParseNote] = []
            do {
                let ra = try RouterAdvertisement.parse(message.bytes, notes: &notes)
                print(json ? jsonLine(ra, message.captured, notes) : RATextFormatter.text(ra, message.captured, notes))
            } catch {
                failed = true
                let prefix = message.captured.map { "packet \($0.packet): " } ?? ""
                printError("\(prefix)malformed RA: \(error)")
            }
        }
        if failed { throw ExitStatus(2) }
    }

    /// The RA's JSON, with `packet` and `source` first when it came from a capture, and `notes` last.
    private func jsonLine(
        _ ra: RouterAdvertisement, _ captured: CapturedRouterAdvertisement?,
        _ notes: [ParseNote]
    ) -> String {
        guard case .object(var members) = ra.json else { return ra.json.serialized }
        if let captured {
            members.insert(JSONMember("source", .string(captured.source.description)), at: 0)
            members.insert(JSONMember("packet", .integer(Int64(captured.packet))), at: 0)
        }
        members.append(JSONMember("notes", .array(notes.map { .string($0.description) })))
        return JSONValue.object(members).serialized
    }
}
